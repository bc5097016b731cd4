import type { JsonValue, StatusMessage } from '@webmon/protocol';
import type { ConnectionState, TopicEvent } from '@webmon/relay/client';

/** What the host needs of a relay client (`createRelayClient` from `@webmon/relay/client` fits). */
export interface PageHostClient {
  subscribe(topic: string, handler: (event: TopicEvent<unknown>) => void): () => void;
  command(name: string, args: JsonValue): Promise<JsonValue | undefined>;
  onStateChange(handler: (state: ConnectionState) => void): () => void;
  onStatus(handler: (status: StatusMessage) => void): () => void;
}
