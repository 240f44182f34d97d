/**
 * One declaration per task: the single source from which task.json, action.yml and the docs'
 * tables are generated, and against which inputs are read at run time.
 */
export type PlatformName = 'azure' | 'github';

export type InputType =
  | 'string' // one line
  | 'boolean'
  | 'list' // one item a line (commas also separate)
  | 'map' // KEY=VALUE lines
  | 'filePath'
  | 'pickList'
  | 'connection'; // an Azure DevOps service connection

export interface InputDeclaration {
  /** camelCase letters and digits: INPUT_<NAME> is then the same variable on both runners. */
  name: string;
  label: string;
  description: string;
  type: InputType;
  required?: boolean;
  /** A static default, written into the manifests. Defaults computed at run time are described instead. */
  default?: string;
  secret?: boolean;
  /** Platforms that offer the input; both when absent. */
  platforms?: readonly PlatformName[];
  options?: readonly string[];
  /** For type 'connection': the Azure DevOps service endpoint type, e.g. 'dockerregistry'. */
  connectionType?: string;
  /** Azure DevOps group (a collapsible section of the task form). */
  group?: string;
}

export interface OutputDeclaration {
  name: string;
  description: string;
}

export interface TaskDeclaration {
  /** A fixed GUID: Azure DevOps identifies the task by it across versions. */
  id: string;
  /** Azure DevOps task name (PascalCase); also the folder under tasks/. */
  taskName: string;
  /** GitHub Action name (kebab-case); also the folder under actions/. */
  actionName: string;
  friendlyName: string;
  description: string;
  category: 'Build' | 'Deploy' | 'Utility' | 'Test' | 'Package';
  instanceNameFormat: string;
  groups?: readonly { name: string; displayName: string; isExpanded?: boolean }[];
  inputs: readonly InputDeclaration[];
  outputs: readonly OutputDeclaration[];
}

export function inputsFor(declaration: TaskDeclaration, platform: PlatformName): InputDeclaration[] {
  return declaration.inputs.filter((input) => !input.platforms || input.platforms.includes(platform));
}
