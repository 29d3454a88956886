import { useCallback, useEffect, useState } from 'react';
import { ApiError, type EventName, type Input, type Method, type Output } from '@shared/contract';
import { useApi } from './use-api';

export interface QueryOptions {
  /** Ask again whenever one of these events arrives. */
  refetchOn?: EventName | readonly EventName[];
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

interface Settled<T> {
  request: string;
  data: T | undefined;
  error: ApiError | null;
  updatedAt: number | null;
}

/**
 * Calls `method` with `input` and keeps the answer. Asks again when `input` changes (compared
 * as JSON), when `refetch()` is called, when a `refetchOn` event arrives, and when the link
 * comes back after a drop (the daemon may have restarted with other figures).
 */
export function useQuery<M extends Method>(
  method: M,
  input: Input<M>,
  options: QueryOptions = {},
): QueryResult<Output<M>> {
  const client = useApi();
  const inputKey = JSON.stringify(input ?? {});
  const [nonce, setNonce] = useState(0);
  const [settled, setSettled] = useState<Settled<Output<M>>>({
    request: '',
    data: undefined,
    error: null,
    updatedAt: null,
  });
  const request = `${method} ${inputKey} #${nonce}`;

  const refetch = useCallback(() => setNonce((n) => n + 1), []);

  useEffect(() => {
    let current = true;
    client.call(method, JSON.parse(inputKey) as Input<M>).then(
      (data) => {
        if (current) setSettled({ request, data, error: null, updatedAt: Date.now() });
      },
      (error: unknown) => {
        if (!current) return;
        const apiError = error instanceof ApiError ? error : new ApiError('internal', String(error));
        setSettled((prev) => ({ ...prev, request, error: apiError }));
      },
    );
    return () => {
      current = false;
    };
  }, [client, method, inputKey, request]);

  const refetchOn = options.refetchOn;
  const eventsKey = refetchOn === undefined ? '' : ([] as EventName[]).concat(refetchOn).join(',');
  useEffect(() => {
    if (!eventsKey) return;
    const offs = (eventsKey.split(',') as EventName[]).map((name) => client.on(name, refetch));
    return () => offs.forEach((off) => off());
  }, [client, eventsKey, refetch]);

  useEffect(() => {
    let wasOpen: boolean | null = null;
    return client.onConnectionChange((state) => {
      const open = state === 'open';
      if (open && wasOpen === false) refetch();
      wasOpen = open;
    });
  }, [client, refetch]);

  // A method or input change drops the old data: it answered a different question.
  const sameQuestion = settled.request.startsWith(`${method} ${inputKey} #`);
  return {
    data: sameQuestion ? settled.data : undefined,
    error: sameQuestion ? settled.error : null,
    loading: settled.request !== request,
    updatedAt: sameQuestion ? settled.updatedAt : null,
    refetch,
  };
}
