import type { InputDeclaration, TaskDeclaration } from '../../shared/tasks/declaration.js';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function platforms(input: InputDeclaration): string {
  if (!input.platforms) return 'both';
  return input.platforms.map((name) => (name === 'azure' ? 'Azure DevOps' : 'GitHub')).join(', ');
}

function typeOf(input: InputDeclaration): string {
  if (input.type === 'connection') return `service connection (${input.connectionType})`;
  if (input.type === 'pickList') return (input.options ?? []).join(' \\| ');
  return input.type + (input.secret ? ', secret' : '');
}

/** The input and output tables of one task, as they appear in README.md. */
export function docsTables(task: TaskDeclaration): string {
  const inputs = task.inputs.map(
    (input) =>
      `| \`${input.name}\` | ${cell(typeOf(input))} | ${input.required ? 'yes' : ''} | ${input.default ? `\`${input.default}\`` : ''} | ${platforms(input)} | ${cell(input.description)} |`,
  );
  const outputs = task.outputs.map((output) => `| \`${output.name}\` | ${cell(output.description)} |`);
  return [
    `#### ${task.taskName} / ${task.actionName}: inputs`,
    '',
    '| Input | Type | Required | Default | Platforms | Description |',
    '|---|---|---|---|---|---|',
    ...inputs,
    '',
    `#### ${task.taskName} / ${task.actionName}: outputs`,
    '',
    '| Output | Description |',
    '|---|---|',
    ...outputs,
  ].join('\n');
}

const BEGIN = (name: string) => `<!-- BEGIN GENERATED ${name}: npm run manifests -->`;
const END = (name: string) => `<!-- END GENERATED ${name} -->`;

/** Replaces the generated block of a task in a markdown text; fails when the markers are missing. */
export function replaceGeneratedBlock(markdown: string, name: string, content: string): string {
  const begin = markdown.indexOf(BEGIN(name));
  const end = markdown.indexOf(END(name));
  if (begin < 0 || end < begin) throw new Error(`README.md has no block '${BEGIN(name)}' ... '${END(name)}'`);
  return `${markdown.slice(0, begin)}${BEGIN(name)}\n${content}\n${markdown.slice(end)}`;
}
