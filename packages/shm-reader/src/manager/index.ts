export { ManagerClient, MANAGER_DEFAULTS, type ManagerClientOptions } from './client.js';
export type { CreatedObject } from './proxy-client.js';
export { Proxy, DictProxy, QueueProxy, EventProxy } from './proxies.js';
export { ServingConnection, type CallOptions } from './serving-connection.js';
export { PythonExceptionError, QueueEmptyError, QueueShutDownError, RemoteError } from './errors.js';
export { encodeRequest, interpretReply, type Kwargs } from './reply.js';
