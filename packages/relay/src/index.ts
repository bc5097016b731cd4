// @webmon/relay — the Node server. The browser client is the separate entry `@webmon/relay/client`.

// Server
export { createRelay } from './server.js';
export type {
  CommandAllowlist,
  CommandContext,
  CommandHandler,
  CommandValidator,
  FrameDescription,
  PublishOptions,
  RateLimit,
  Relay,
  RelayAddress,
  RelayClientInfo,
  RelayOptions,
  RelayStats,
  RelayTap,
  RelayTimeline,
  StatusDetails,
} from './server.js';
export type { RelayTopicOptions } from './topic.js';
export type { PeerStats } from './peer.js';
export type { ViewStats } from './views.js';
export type { ViewPoolStats } from './view-pool.js';

// Security helpers
export { generateToken, hostAllowed, hostNameOf, isLoopbackAddress, isLoopbackHostName, requestTarget, tokensEqual, TOKEN_PROTOCOL_PREFIX } from './security.js';
export type { OriginPolicy } from './security.js';

// Errors
export { RelayCommandError, RelayError, RelayErrorCode, isRelayCommandError, isRelayError } from './errors.js';
export type { CommandErrorCode } from './errors.js';
