// Flags shared by several commands.
import { Option } from 'commander';
import { DEFAULT_REQUEST_TIMEOUT_SECONDS } from '../../k8s/client.ts';
import { clusterSubsetFlag, contextOverrideFlag, durationFlag } from '../flags.ts';
import { OUTPUT_FORMATS, type OutputFormat } from '../output.ts';

export const specOption = () => new Option('-f, --file <mesh.yaml>', 'mesh spec file').makeOptionMandatory();
export const formatOption = (flags = '-o, --output <format>') => new Option(flags, 'result format').choices(OUTPUT_FORMATS).default('text' as OutputFormat);

/** Deadline of every Kubernetes request (and helm query) of a command. */
export const requestTimeoutOption = () =>
  new Option('--request-timeout <duration>', 'deadline of each request to a cluster (e.g. 10s, 1m); a cluster that does not answer in time is reported unreachable')
    .argParser(durationFlag('--request-timeout', 0.1, 600))
    .default(DEFAULT_REQUEST_TIMEOUT_SECONDS, `${DEFAULT_REQUEST_TIMEOUT_SECONDS}s`);

/** Act on some of the spec's clusters only (checked against the spec). */
export const clustersOption = (what: string) => new Option('--clusters <names>', `comma-separated clusters to ${what} (default: all in the spec)`).argParser(clusterSubsetFlag);

export const kubeconfigOption = () => new Option('--kubeconfig <path>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config, or the lab\'s)');

/** This run's context for a cluster, instead of the spec's (repeat per cluster). */
export const contextsOption = () => new Option('--context <cluster=context>', 'use this kubeconfig context for a cluster of the spec in this run (repeat; e.g. --context us=prod-us-east-1)').argParser(contextOverrideFlag);
