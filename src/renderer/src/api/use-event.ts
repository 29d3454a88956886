import { useEffect, useEffectEvent } from 'react';
import type { EventListener, EventName } from '@shared/contract';
import { useApi } from './use-api';

/** Calls `listener` with every `name` event while the component is mounted; always the latest listener. */
export function useEvent<E extends EventName>(name: E, listener: EventListener<E>): void {
  const client = useApi();
  const onEvent = useEffectEvent(listener);
  useEffect(() => client.on(name, (payload) => onEvent(payload)), [client, name]);
}
