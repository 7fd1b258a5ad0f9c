/**
 * The admit stage: the quota check (hooks.admission: accounting/admission.ts over the quota service), then
 * the request's observer (hooks.observe), then the attempt loop. An admission answered at once costs no
 * await; one that goes to a shared store is a Promise, and the call is made before it ends so that it sees
 * a client that leaves meanwhile (then nothing goes upstream: the provider would bill it).
 */

import type { Exchange, RoutedExchange } from '../exchange.js';
import { type AdmissionTicket, type GatewayHooks, noopObserver, type RequestObserver } from '../hooks.js';

/** The attempt loop as the admit stage sees it (the pipeline; calls are proxy/call.ts ProxyCalls). */
export interface AttemptLoop<C extends AdmittedCall> {
  /** The call for x, not started yet. */
  prepare(x: RoutedExchange, observer: RequestObserver): C;
  /** Runs the call (its errors are its own to answer). */
  launch(call: C, x: RoutedExchange): void;
  /** Answers with the refusal through the one writer and reports it. */
  refuse(x: Exchange, err: unknown): void;
}

/** What the admit stage needs of a call made before its admission ended. */
export interface AdmittedCall {
  admitted(observer: RequestObserver): void;
}

export function admit<C extends AdmittedCall>(x: RoutedExchange, hooks: GatewayHooks, loop: AttemptLoop<C>): void {
  const admission = hooks.admission;
  let ticket: AdmissionTicket | undefined | Promise<AdmissionTicket | undefined>;
  let call: C;
  try {
    ticket = admission === undefined ? undefined : admission.admit(x);
    if (ticket instanceof Promise) {
      const waiting = loop.prepare(x, noopObserver);
      ticket.then(
        (t) => {
          try {
            waiting.admitted(hooks.observe(x, t));
          } catch (err) {
            loop.refuse(x, err);
            return;
          }
          loop.launch(waiting, x);
        },
        (err: unknown) => loop.refuse(x, err),
      );
      return;
    }
    call = loop.prepare(x, hooks.observe(x, ticket));
  } catch (err) {
    loop.refuse(x, err);
    return;
  }
  loop.launch(call, x);
}
