// The MCS test workload, shared by the sync e2e test and the sync benchmark: `hello` (the lab's echo
// image answering region=<region>) with its Service in namespace shop, and a ServiceExport for a name.
import { IMAGES } from '../../src/sources/lab-images.ts';

export const helloManifest = (region: string, cluster: string) => `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: hello, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: hello}}
  template:
    metadata: {labels: {app: hello}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: hello
        image: ${IMAGES.echo}
        imagePullPolicy: Never
        env: [{name: REGION, value: ${region}}, {name: CLUSTER, value: ${cluster}}, {name: PORT, value: "8080"}, {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 2}
---
apiVersion: v1
kind: Service
metadata: {name: hello, namespace: shop}
spec: {selector: {app: hello}, ports: [{name: http, port: 80, targetPort: 8080}]}
`;
/** A ServiceExport as MCS users write it (usable from every namespace); `exportTo` scopes it with eastwest's annotation. */
export const exportOf = (name: string, exportTo?: string) =>
  `apiVersion: multicluster.x-k8s.io/v1alpha1\nkind: ServiceExport\nmetadata: {name: ${name}, namespace: shop${exportTo === undefined ? '' : `, annotations: {eastwest.dev/export-to: "${exportTo}"}`}}\n`;
