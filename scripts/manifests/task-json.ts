import type { InputDeclaration, TaskDeclaration } from '../../shared/tasks/declaration.js';
import { inputsFor } from '../../shared/tasks/declaration.js';

/** Oldest agent with the Node20_1 handler; Node24 needs agent 4.x and is preferred where present. */
const MINIMUM_AGENT_VERSION = '3.232.1';

function taskInputType(input: InputDeclaration): string {
  switch (input.type) {
    case 'list':
    case 'map':
      return 'multiLine';
    case 'connection':
      return `connectedService:${input.connectionType}`;
    case 'filePath':
      // The agent fills an empty filePath input with the sources folder, which would turn an
      // unset optional file into a directory; only inputs with a default get the picker.
      return input.default ? 'filePath' : 'string';
    default:
      return input.type;
  }
}

export function taskJson(task: TaskDeclaration, version: string): object {
  const [major, minor, patch] = version.split('.').map(Number);
  return {
    $schema: 'https://raw.githubusercontent.com/Microsoft/azure-pipelines-task-lib/master/tasks.schema.json',
    id: task.id,
    name: task.taskName,
    friendlyName: task.friendlyName,
    description: task.description,
    helpMarkDown: `${task.description} Inputs and examples: the extension's overview page.`,
    category: task.category,
    author: 'mlops-tasks',
    version: { Major: major, Minor: minor, Patch: patch },
    minimumAgentVersion: MINIMUM_AGENT_VERSION,
    instanceNameFormat: task.instanceNameFormat,
    groups: task.groups?.map((group) => ({ name: group.name, displayName: group.displayName, isExpanded: group.isExpanded ?? false })),
    inputs: inputsFor(task, 'azure').map((input) => ({
      name: input.name,
      type: taskInputType(input),
      label: input.label,
      defaultValue: input.default ?? '',
      required: input.required ?? false,
      helpMarkDown: input.description,
      ...(input.group ? { groupName: input.group } : {}),
      ...(input.options ? { options: Object.fromEntries(input.options.map((option) => [option, option])) } : {}),
      ...(input.type === 'list' || input.type === 'map' ? { properties: { resizable: true, rows: '3' } } : {}),
    })),
    outputVariables: task.outputs.map((output) => ({ name: output.name, description: output.description })),
    execution: {
      Node24: { target: 'dist/index.js' },
      Node20_1: { target: 'dist/index.js' },
    },
  };
}
