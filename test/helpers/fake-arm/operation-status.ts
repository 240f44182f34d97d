import { resolve } from 'node:path';
import { MFE_JSON, type ArmSwagger } from './swagger.js';

/**
 * The status document of an Azure-AsyncOperation. The 2024-04-01 spec only names the header; the
 * document's shape is ARM's async operation contract (status, times, and an ARM ErrorDetail,
 * which the spec's common types define).
 */
const OPERATION_STATUS = {
  type: 'object',
  required: ['status'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    status: { type: 'string', enum: ['InProgress', 'Succeeded', 'Failed', 'Canceled'] },
    startTime: { type: 'string', format: 'date-time' },
    endTime: { type: 'string', format: 'date-time' },
    percentComplete: { type: 'number' },
    error: { $ref: '../../../../../common-types/resource-management/v3/types.json#/definitions/ErrorDetail' },
  },
  additionalProperties: false,
};

export function operationStatusProblems(swagger: ArmSwagger, document: unknown): string[] {
  const schema = { ...OPERATION_STATUS, __from: resolve(swagger.specsDir, MFE_JSON) };
  return swagger.check(schema, document, 'response').map((problem) => `operation status: ${problem}`);
}
