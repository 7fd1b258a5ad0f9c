/** Quota-test helper: an admission's answer as a value (the ticket, or the GatewayError it was refused with). */
import type { QuotaTicket } from '../../dataplane/src/accounting/quota/service.js';
import { GatewayError } from '../../dataplane/src/errors.js';

/** Resolves to the ticket or the refusal; other errors and an ungoverned request (undefined) fail. */
export function outcome(
  p: QuotaTicket | Promise<QuotaTicket> | GatewayError | undefined,
): Promise<QuotaTicket | GatewayError> {
  if (p === undefined) return Promise.reject(new Error('expected a governed request'));
  return Promise.resolve(p).catch((e: unknown) => {
    if (e instanceof GatewayError) return e;
    throw e;
  });
}
