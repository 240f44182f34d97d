import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The sample's training pipeline as the kfp 2.x SDK compiles it (KFP v2 IR): three steps and one
 * parameter of each type a user can set. `training_image` and `epochs` are required.
 */
export function v2Pipeline(options: { name?: string; schemaVersion?: string; image?: string; platformSpec?: boolean } = {}): string {
  const name = options.name ?? 'tacos-vs-burritos';
  const ir = `# PIPELINE DEFINITION
# Name: ${name}
# Inputs:
#    epochs: int
#    training_image: str
components:
  comp-preprocess:
    executorLabel: exec-preprocess
  comp-train:
    executorLabel: exec-train
    inputDefinitions:
      parameters:
        epochs:
          parameterType: NUMBER_INTEGER
        learning_rate:
          parameterType: NUMBER_DOUBLE
  comp-register:
    executorLabel: exec-register
deploymentSpec:
  executors:
    exec-preprocess:
      container:
        image: ${options.image ?? 'myacr.azurecr.io/kubeflow/preprocess:latest'}
        command: [python, preprocess.py]
    exec-train:
      container:
        image: "{{$.inputs.parameters['training_image']}}"
        command: [python, train.py]
        args: ["--epochs", "{{$.inputs.parameters['epochs']}}"]
    exec-register:
      container:
        image: myacr.azurecr.io/kubeflow/register:latest
        command: [python, register.py]
pipelineInfo:
  name: ${name}
  description: Tacos vs burritos, trained on every commit
root:
  dag:
    tasks:
      preprocess:
        cachingOptions:
          enableCache: true
        componentRef:
          name: comp-preprocess
        taskInfo:
          name: preprocess
      train:
        cachingOptions: {}
        componentRef:
          name: comp-train
        dependentTasks: [preprocess]
        inputs:
          parameters:
            epochs:
              componentInputParameter: epochs
            learning_rate:
              componentInputParameter: learning_rate
        taskInfo:
          name: train
      register:
        componentRef:
          name: comp-register
        dependentTasks: [train]
        taskInfo:
          name: register
  inputDefinitions:
    parameters:
      training_image:
        parameterType: STRING
      epochs:
        parameterType: NUMBER_INTEGER
      learning_rate:
        defaultValue: 0.01
        isOptional: true
        parameterType: NUMBER_DOUBLE
      use_gpu:
        defaultValue: false
        isOptional: true
        parameterType: BOOLEAN
      layers:
        defaultValue: [64, 32]
        isOptional: true
        parameterType: LIST
      hparams:
        isOptional: true
        parameterType: STRUCT
      notify:
        defaultValue: ''
        isOptional: true
        parameterType: STRING
schemaVersion: ${options.schemaVersion ?? '2.1.0'}
sdkVersion: kfp-2.7.0
`;
  if (!options.platformSpec) return ir;
  return `${ir}---
platforms:
  kubernetes:
    deploymentSpec:
      executors:
        exec-train:
          secretAsEnv:
          - secretName: azure-sp
            keyToEnv:
            - secretKey: password
              envVar: AZURE_CLIENT_SECRET
`;
}

/** The same pipeline as the kfp 1.x SDK compiled it: an Argo Workflow with kebab-case parameters. */
export function v1Pipeline(options: { name?: string; image?: string } = {}): string {
  const name = options.name ?? 'tacos-vs-burritos';
  return `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: ${name}-
  annotations:
    pipelines.kubeflow.org/kfp_sdk_version: 1.8.22
    pipelines.kubeflow.org/pipeline_spec: '{"name": "${name}", "inputs": [{"name": "image-tag", "type": "String"}, {"name": "epochs", "type": "Integer", "default": "5"}]}'
spec:
  entrypoint: ${name}
  serviceAccountName: pipeline-runner
  arguments:
    parameters:
    - name: image-tag
    - name: epochs
      value: '5'
    - name: model-name
      value: tacosandburritos
  templates:
  - name: ${name}
    dag:
      tasks:
      - name: preprocess
        template: preprocess
      - name: training
        template: training
        dependencies: [preprocess]
  - name: preprocess
    container:
      image: ${options.image ?? 'myacr.azurecr.io/kubeflow/preprocess:{{workflow.parameters.image-tag}}'}
      command: [python, data.py]
  - name: training
    container:
      image: myacr.azurecr.io/kubeflow/training:{{workflow.parameters.image-tag}}
      command: [python, train.py, --epochs, '{{workflow.parameters.epochs}}']
`;
}

/** Writes a package file of that name (its extension decides how the step reads it) in a fresh folder. */
export function packageFile(content: string | Buffer, filename = 'pipeline.yaml'): string {
  const file = join(mkdtempSync(join(tmpdir(), 'mlops-kfp-package-')), filename);
  writeFileSync(file, content);
  return file;
}

/** An archive made by the system's tar or zip, holding the given files. */
export function archiveFile(kind: 'tar.gz' | 'zip', files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-kfp-archive-'));
  const content = join(dir, 'content');
  execFileSync('mkdir', ['-p', content]);
  for (const [name, text] of Object.entries(files)) {
    execFileSync('mkdir', ['-p', join(content, name, '..')]);
    writeFileSync(join(content, name), text);
  }
  const archive = join(dir, `package.${kind}`);
  if (kind === 'tar.gz') execFileSync('tar', ['-czf', archive, '-C', content, ...Object.keys(files)]);
  else execFileSync('zip', ['-q', '-r', archive, ...Object.keys(files)], { cwd: content });
  return archive;
}
