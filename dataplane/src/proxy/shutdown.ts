/**
 * The shutdown grace's end (server/listener.ts onGraceEnd) reaching the call that serves a response: the call
 * ends in the client's format (a stream with an error event, recorded as `shutting_down`, not as a client
 * abort). ADR 0057. One property write per call; nothing else per request.
 */
import type { ServerResponse } from 'node:http';

/** What the shutdown asks of a call: cancel the running try, which is then classified as shutting_down. */
export interface Stoppable {
  shutdown(): void;
}

/** Where a response keeps the call that serves it. */
const CALL = Symbol('tollgate.call');

type WithCall = { [CALL]?: Stoppable };

/** The call now serving `res` (ProxyCall's constructor). */
export function registerCall(res: ServerResponse, call: Stoppable): void {
  (res as unknown as WithCall)[CALL] = call;
}

/** The grace is over: the call serving `res`, if any, ends now. */
export function endForShutdown(res: ServerResponse): void {
  (res as unknown as WithCall)[CALL]?.shutdown();
}
