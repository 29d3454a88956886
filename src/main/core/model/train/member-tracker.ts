/**
 * Where an ensemble's run is: when each member started and how long the finished ones took, for
 * the whole run's ETA and the "member k of n" of the detail. A single model: the member's own.
 */
export class MemberTracker {
  private started: number | null = null;
  private readonly durations: number[] = [];

  constructor(readonly members: number) {}

  /** "member 2 of 3 · " for an ensemble's member 1 (0-based); "" for a single model. */
  prefix(member: number): string {
    return this.members > 1 ? `member ${member + 1} of ${this.members} · ` : '';
  }

  /** A member begins training (its dataset is built). */
  memberStarted(nowMs: number): void {
    this.started = nowMs;
  }

  /** The member that started last is finished. */
  memberFinished(nowMs: number): void {
    if (this.started !== null) this.durations.push(nowMs - this.started);
    this.started = null;
  }

  /**
   * Seconds left in the whole run: the member's own estimate plus, per member still to come, the
   * mean wall time of the finished members (none yet: this member's projected total).
   */
  eta(member: number, memberEtaSeconds: number | null, nowMs: number): number | null {
    const after = this.members - member - 1;
    if (memberEtaSeconds === null || after <= 0) return memberEtaSeconds;
    let perMember: number;
    if (this.durations.length > 0) perMember = this.durations.reduce((a, b) => a + b, 0) / this.durations.length / 1000;
    else if (this.started !== null) perMember = (nowMs - this.started) / 1000 + memberEtaSeconds;
    else return null;
    return memberEtaSeconds + after * perMember;
  }
}
