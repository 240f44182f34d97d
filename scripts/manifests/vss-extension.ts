import type { TaskDeclaration } from '../../shared/tasks/declaration.js';

export function vssExtension(tasks: readonly TaskDeclaration[], version: string, description: string): object {
  return {
    manifestVersion: 1,
    id: 'mlops-tasks',
    publisher: 'mlops-tasks',
    name: 'MLOps tasks',
    version,
    description,
    public: false,
    categories: ['Azure Pipelines'],
    tags: ['MLOps', 'Kubeflow', 'Azure ML', 'buildah', 'containers'],
    targets: [{ id: 'Microsoft.VisualStudio.Services' }],
    content: { details: { path: 'README.md' } },
    files: tasks.map((task) => ({ path: `tasks/${task.taskName}` })),
    contributions: tasks.map((task) => ({
      id: task.actionName,
      type: 'ms.vss-distributed-task.task',
      targets: ['ms.vss-distributed-task.tasks'],
      properties: { name: `tasks/${task.taskName}` },
    })),
  };
}
