import type { ArrayView, GapMessage, JsonValue, StatusMessage, TopicInfo } from '@webmon/protocol';
import type { CommandOptions, ConnectionState, SessionChange, SubscribeOptions, TopicEvent, TopicsChange } from '@webmon/relay/client';

/** What the host needs of a relay client (`createRelayClient` from `@webmon/relay/client` fits). */
export interface PageHostClient {
  /** The handler's result may be a promise: the client acknowledges the value when it settles (`@webmon/relay/client` does). */
  subscribe(topic: string, handler: (event: TopicEvent<unknown>) => unknown, options?: SubscribeOptions): () => void;
  /** Array views (protocol 1.3); a client without it gives pages whole frames. */
  setView?(topic: string, view: ArrayView | undefined): Promise<void>;
  command(name: string, args: JsonValue, options?: CommandOptions): Promise<JsonValue | undefined>;
  readonly topics: readonly TopicInfo[];
  onTopics(handler: (change: TopicsChange) => void): () => void;
  onStateChange(handler: (state: ConnectionState) => void): () => void;
  onStatus(handler: (status: StatusMessage) => void): () => void;
  /** The server's gap notices (messages of a stream topic dropped for this client); a client without it: pages hear of no gaps. */
  onGap?(handler: (gap: GapMessage) => void): () => void;
  /**
   * A new session (the server restarted, or a replay sought — protocol 1.5): the host remounts every page,
   * since what a page built from the old session is stale. A client without it: pages stay mounted.
   */
  onSessionChange?(handler: (change: SessionChange) => void): () => void;
}
