/**
 * The control plane itself: a real kube-apiserver answers, kubectl and helm are the pinned builds,
 * and authentication and RBAC behave as in a cluster (ServiceAccount tokens from TokenRequest are
 * authenticated by TokenReview and authorized by RBAC, nothing more).
 */
import { readFileSync } from 'node:fs';
import {
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  VersionApi,
} from '@kubernetes/client-node';
import { adminConfig, createNamespace, eventually, expectApiError, tool } from './support.js';

/** jest-circus applies only the global testTimeout, not the project's: every hook and test sets its own. */
const TIMEOUT = 120_000;

const ISSUER = 'https://kubernetes.default.svc.cluster.local';

/** A KubeConfig that authenticates with a bearer token only (no client certificate). */
function tokenConfig(admin: KubeConfig, token: string): KubeConfig {
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('admin kubeconfig has no cluster');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'test', server: cluster.server, caData: cluster.caData, skipTLSVerify: false }],
    users: [{ name: 'sa', token }],
    contexts: [{ name: 'test', cluster: 'test', user: 'sa' }],
    currentContext: 'test',
  });
  return kc;
}

describe('kube-apiserver', () => {
  const admin = adminConfig();

  test(
    'serves Kubernetes 1.33 and is ready',
    async () => {
      const version = await admin.makeApiClient(VersionApi).getCode();
      expect(version.gitVersion).toMatch(/^v1\.33\.\d+$/);
      const { stdout } = await tool('kubectl', ['get', '--raw', '/readyz']);
      expect(stdout.trim()).toBe('ok');
    },
    TIMEOUT,
  );

  test(
    'the admin kubeconfig is a client certificate in system:masters',
    async () => {
      const review = await admin.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
      expect(review.status?.userInfo?.username).toBe('tollgate-admin');
      expect(review.status?.userInfo?.groups).toContain('system:masters');
      // Embedded, not a path: the file stands alone.
      expect(readFileSync(process.env.KUBECONFIG ?? '', 'utf8')).toContain('client-certificate-data:');
    },
    TIMEOUT,
  );

  test(
    'kubectl and helm are the pinned builds',
    async () => {
      const kubectl = JSON.parse((await tool('kubectl', ['version', '-o', 'json'])).stdout) as {
        clientVersion: { gitVersion: string };
        serverVersion: { gitVersion: string };
      };
      expect(kubectl.clientVersion.gitVersion).toMatch(/^v1\.33\.\d+$/);
      expect(kubectl.serverVersion.gitVersion).toBe(kubectl.clientVersion.gitVersion);
      expect((await tool('helm', ['version', '--short'])).stdout).toMatch(/^v3\.\d+\.\d+/);
    },
    TIMEOUT,
  );

  test(
    'etcd persists objects: what is written reads back',
    async () => {
      const namespace = await createNamespace(admin, 'persist');
      const core = admin.makeApiClient(CoreV1Api);
      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'c' }, data: { a: '1' } } });
      const read = await core.readNamespacedConfigMap({ namespace, name: 'c' });
      expect(read.data).toEqual({ a: '1' });
      // Optimistic concurrency is real: a stale resourceVersion conflicts.
      const stale = { ...read, data: { a: '2' } };
      await core.replaceNamespacedConfigMap({ namespace, name: 'c', body: stale });
      const conflict = await expectApiError(
        core.replaceNamespacedConfigMap({ namespace, name: 'c', body: { ...read, data: { a: '3' } } }),
      );
      expect(conflict.code).toBe(409);
    },
    TIMEOUT,
  );
});

describe('ServiceAccount tokens and RBAC', () => {
  const admin = adminConfig();
  const core = admin.makeApiClient(CoreV1Api);
  let namespace: string;
  let token: string;

  beforeAll(async () => {
    namespace = await createNamespace(admin, 'rbac');
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'robot' } } });
    const request = await core.createNamespacedServiceAccountToken({
      namespace,
      name: 'robot',
      body: { spec: { audiences: [ISSUER], expirationSeconds: 600 } },
    });
    token = request.status?.token ?? '';
    expect(token.split('.')).toHaveLength(3); // a signed JWT
  }, TIMEOUT);

  test(
    'TokenReview authenticates a TokenRequest token as the ServiceAccount',
    async () => {
      const review = await admin
        .makeApiClient(AuthenticationV1Api)
        .createTokenReview({ body: { spec: { token, audiences: [ISSUER] } } });
      expect(review.status?.authenticated).toBe(true);
      expect(review.status?.user?.username).toBe(`system:serviceaccount:${namespace}:robot`);
      expect(review.status?.user?.groups).toEqual(
        expect.arrayContaining([
          'system:serviceaccounts',
          `system:serviceaccounts:${namespace}`,
          'system:authenticated',
        ]),
      );
      expect(review.status?.audiences).toEqual([ISSUER]);
    },
    TIMEOUT,
  );

  test(
    'TokenReview rejects a token with a wrong audience, and a forged token',
    async () => {
      const auth = admin.makeApiClient(AuthenticationV1Api);
      const wrongAudience = await auth.createTokenReview({ body: { spec: { token, audiences: ['someone-else'] } } });
      expect(wrongAudience.status?.authenticated).toBeFalsy();
      const [header, payload] = token.split('.');
      const forged = await auth.createTokenReview({ body: { spec: { token: `${header}.${payload}.AAAA` } } });
      expect(forged.status?.authenticated).toBeFalsy();
      const unauthenticated = await expectApiError(
        tokenConfig(admin, `${header}.${payload}.AAAA`).makeApiClient(CoreV1Api).listNamespacedSecret({ namespace }),
      );
      expect(unauthenticated.code).toBe(401);
    },
    TIMEOUT,
  );

  test(
    'the ServiceAccount is forbidden what RBAC does not grant, and allowed once it does',
    async () => {
      const asRobot = tokenConfig(admin, token).makeApiClient(CoreV1Api);
      const forbidden = await expectApiError(asRobot.listNamespacedSecret({ namespace }));
      expect(forbidden.code).toBe(403);
      expect(forbidden.message).toContain(
        `User "system:serviceaccount:${namespace}:robot" cannot list resource "secrets" in API group "" in the namespace "${namespace}"`,
      );

      const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
      await rbac.createNamespacedRole({
        namespace,
        body: {
          metadata: { name: 'read-secrets' },
          rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] }],
        },
      });
      await rbac.createNamespacedRoleBinding({
        namespace,
        body: {
          metadata: { name: 'robot-reads-secrets' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-secrets' },
          subjects: [{ kind: 'ServiceAccount', name: 'robot', namespace }],
        },
      });
      await eventually(() => asRobot.listNamespacedSecret({ namespace }));

      // The grant is exactly that: no writes, nothing outside the namespace.
      const write = await expectApiError(
        asRobot.createNamespacedSecret({ namespace, body: { metadata: { name: 's' }, stringData: { k: 'v' } } }),
      );
      expect(write.code).toBe(403);
      const elsewhere = await expectApiError(asRobot.listNamespacedSecret({ namespace: 'default' }));
      expect(elsewhere.code).toBe(403);

      const access = await tokenConfig(admin, token)
        .makeApiClient(AuthorizationV1Api)
        .createSelfSubjectAccessReview({
          body: { spec: { resourceAttributes: { namespace, verb: 'delete', resource: 'secrets' } } },
        });
      expect(access.status?.allowed).toBe(false);
    },
    TIMEOUT,
  );
});
