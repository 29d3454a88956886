import { ByteBuffer } from 'flatbuffers';

/**
 * apache-arrow decodes IPC metadata (flatbuffers) without verifying it: a corrupted vector
 * length makes its decoders loop up to 2^31 times (the fuzz test found a flipped byte in a
 * footer's custom-metadata count that hung the reader for minutes). Every vector in Arrow's
 * schema has elements of 4 bytes or more, so a count larger than the bytes left / 4 is a lie;
 * clamping it bounds every decode loop by the buffer's size and changes nothing for a valid
 * buffer. It patches the `flatbuffers` module that apache-arrow itself loads (a dependency of
 * apache-arrow, resolved to the same copy), once.
 */
let hardened = false;

export function hardenArrowDecoding(): void {
  if (hardened) return;
  hardened = true;
  ByteBuffer.prototype.__vector_len = function clampedVectorLength(this: ByteBuffer, offset: number): number {
    // The flatbuffers definition of a vector's length: an int32 in front of its first element.
    const length = this.readInt32(offset + this.readInt32(offset));
    const room = (this.capacity() - this.__vector(offset)) >> 2;
    return length < 0 ? 0 : Math.min(length, Math.max(0, room));
  };
}
