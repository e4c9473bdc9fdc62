// FHIR R4 validation of resources the services propose, with Medplum's validator. It reads the R4
// StructureDefinitions the dev FHIR server indexes when it starts: start one first.
import type { Resource } from 'fhir/r4.js';
import '../../src/dev/fhir-server.js';

const medplum = await import('@medplum/core');

/** Error-level problems, as "path: message"; empty when the resource is valid R4. */
export function fhirProblems(resource: Resource): string[] {
  try {
    const issues = medplum.validateResource(resource as Parameters<typeof medplum.validateResource>[0]);
    return issues.filter((i) => i.severity === 'error' || i.severity === 'fatal').map((i) => `${i.expression?.join(',') ?? ''}: ${i.details?.text ?? i.diagnostics ?? ''}`);
  } catch (error) {
    const outcome = (error as { outcome?: { issue?: { expression?: string[]; details?: { text?: string }; diagnostics?: string }[] } }).outcome;
    if (!outcome?.issue) throw error;
    return outcome.issue.map((i) => `${i.expression?.join(',') ?? ''}: ${i.details?.text ?? i.diagnostics ?? ''}`);
  }
}
