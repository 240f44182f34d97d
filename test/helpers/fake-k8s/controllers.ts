/**
 * The controllers a test runs beside the fake API server, so what DeployModel applies comes to
 * life: Deployments roll out pods, InferenceServices get revisions, Services and KServe's status.
 */
export { DeploymentController, outcomeOf, type DeploymentControllerOptions } from './deployment-controller.js';
export { InferenceServiceController, type InferenceServiceControllerOptions, type RevisionOutcome } from './kserve-controller.js';
export { recordEvent, type PodOutcome } from './sim-pods.js';
