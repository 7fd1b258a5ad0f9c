/** Quota-test helpers: a policy as the operator translates it, and an admission's answer as a value. */

import type { QuotaPolicyConfig } from '../../contract/gateway-config.js';
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

/** A translated QuotaPolicy `ai/shared`: shared scope, all models, no limits, open, key `ai/k1`; `over` replaces fields. */
export function quotaPolicy(over: Partial<QuotaPolicyConfig> = {}): QuotaPolicyConfig {
  return {
    id: 'ai/shared',
    namespace: 'ai',
    name: 'shared',
    models: [],
    scope: 'shared',
    limits: [],
    failureMode: 'open',
    keys: ['ai/k1'],
    matchesAnonymous: false,
    ...over,
  };
}
