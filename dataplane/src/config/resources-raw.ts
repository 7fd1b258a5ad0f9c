/**
 * The resources as read from the API server or a file, before their specs are validated: object metadata,
 * the kinds, and one consistent snapshot of everything translate reads (resources.ts holds the specs).
 */
import { z } from 'zod';

/** A Kubernetes object name (and namespace): a lowercase DNS name. */
export const dnsName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, { message: 'must be a lowercase DNS name' });

/** Object metadata as far as Tollgate reads it (Kubernetes or YAML files). */
export const ObjectMeta = z
  .object({
    name: dnsName,
    namespace: dnsName.default('default'),
    uid: z.string().optional(),
    generation: z.number().int().optional(),
    resourceVersion: z.string().optional(),
    creationTimestamp: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .passthrough();
export type ObjectMeta = z.infer<typeof ObjectMeta>;

export const RESOURCE_KINDS = ['LLMProvider', 'LLMRoute', 'QuotaPolicy'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** A resource as read from the API server or a file, before its spec is validated. */
export interface RawResource {
  apiVersion?: string;
  kind: ResourceKind;
  metadata: ObjectMeta;
  spec: unknown;
}

/** A v1 Secret as read from the API server (`data`, base64) or a file (`stringData`). */
export interface RawSecret {
  apiVersion?: string;
  kind: 'Secret';
  metadata: ObjectMeta;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** Everything translate needs: one consistent snapshot of the watched objects. */
export interface ResourceSnapshot {
  providers: RawResource[];
  routes: RawResource[];
  quotaPolicies: RawResource[];
  secrets: RawSecret[];
}
