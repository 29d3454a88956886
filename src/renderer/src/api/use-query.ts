import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiError, EventName, Input, Method, Output } from '@shared/contract';
import { DEFAULT_THROTTLE_MS, watchQuery, type QueryRunner, type QuerySnapshot } from './query-runner';
import { useApi } from './use-api';

export interface QueryOptions {
  /** Ask again whenever one of these events arrives (throttled, see `throttleMs`). */
  refetchOn?: EventName | readonly EventName[];
  /**
   * Event-driven refetches start at most once per this many ms (leading and trailing edge).
   * Default 1000. `refetch()` and reconnects are not throttled.
   */
  throttleMs?: number;
}

export interface QueryResult<T> {
  /** The last successful answer; kept while a refetch runs or after it fails. */
  data: T | undefined;
  /** The error of the last attempt, null once one succeeds. */
  error: ApiError | null;
  /** True while a call is in flight (the first one or a refetch). */
  loading: boolean;
  /** When `data` arrived (ms since epoch). */
  updatedAt: number | null;
  refetch: () => void;
}

const INITIAL: QuerySnapshot<never> = { data: undefined, error: null, loading: true, updatedAt: null };

/**
 * Calls `method` with `input` and keeps the answer. Asks again when `input` changes (compared
 * as JSON), when `refetch()` is called, when a `refetchOn` event arrives (throttled; a running
 * call is never abandoned for a newer event, so a steady stream cannot starve a slow answer),
 * and when the link comes back after a drop. See `watchQuery` and `QueryRunner`.
 */
export function useQuery<M extends Method>(
  method: M,
  input: Input<M>,
  options: QueryOptions = {},
): QueryResult<Output<M>> {
  const client = useApi();
  const inputKey = JSON.stringify(input ?? {});
  const question = `${method} ${inputKey}`;
  const throttleMs = options.throttleMs ?? DEFAULT_THROTTLE_MS;
  const refetchOn = options.refetchOn;
  const eventsKey = refetchOn === undefined ? '' : ([] as EventName[]).concat(refetchOn).join(',');
  const [state, setState] = useState<{ question: string; snapshot: QuerySnapshot<Output<M>> }>({
    question: '',
    snapshot: INITIAL,
  });
  const runnerRef = useRef<QueryRunner<Output<M>> | null>(null);

  useEffect(() => {
    const watch = watchQuery(
      client,
      method,
      JSON.parse(inputKey) as Input<M>,
      (snapshot) => setState({ question, snapshot }),
      {
        refetchOn: eventsKey ? (eventsKey.split(',') as EventName[]) : [],
        throttleMs,
      },
    );
    runnerRef.current = watch.runner;
    return () => {
      watch.dispose();
      if (runnerRef.current === watch.runner) runnerRef.current = null;
    };
  }, [client, method, inputKey, question, eventsKey, throttleMs]);

  const refetch = useCallback(() => runnerRef.current?.refetch(), []);

  // A method or input change drops the old data at once: it answered a different question.
  const snapshot = state.question === question ? state.snapshot : INITIAL;
  return {
    data: snapshot.data,
    error: snapshot.error,
    loading: snapshot.loading,
    updatedAt: snapshot.updatedAt,
    refetch,
  };
}
