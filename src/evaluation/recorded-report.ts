// Renders the evaluation of recorded predictions as Markdown: what was evaluated (and what a
// demonstration model's numbers mean), how the cohort was assembled and what was left out, the
// follow-up at each horizon, the metrics, calibration and the risk-band table.
import type { Estimate, RecordedEvaluationReport } from './evaluate-recorded.js';
import { f2, f3, pct, table } from './report.js';

const years = (t: number): string => `${t} y`;

function cell<T>(value: Estimate<T>, show: (v: T) => string): [string, string] {
  return value.estimable ? [show(value), ''] : ['–', value.reason];
}

/** Line numbers, the first `max` of them. */
function lines(numbers: number[], max = 20): string {
  return numbers.length <= max ? numbers.join(', ') : `${numbers.slice(0, max).join(', ')} … (${numbers.length - max} more)`;
}

function header(report: RecordedEvaluationReport): string[] {
  const { model } = report;
  const versionText = model.versions.map((v) => v.version).join(', ');
  const out = [
    `> These are **prospective recorded predictions** of ${model.id} ${versionText} (${model.name}): each patient's first assessment as the service recorded it (silent mode or live), joined with the outcomes the site reported later.`,
  ];
  if (model.status === 'demonstration') {
    out.push('>', `> **Demonstration model.** ${model.statement} Its numbers describe synthetic data, not patients, and say nothing about clinical performance.`);
  } else {
    out.push('>', `> Model status: ${model.status}. ${model.statement}`);
  }
  return out;
}

function cohortSection(report: RecordedEvaluationReport): string[] {
  const { assessments: a, outcomes: o, cohort: c, sources } = report;
  const excludedRows = o.excluded.length;
  const out = [
    `Sources: the store \`${sources.store}\` and the outcomes file \`${sources.outcomes}\`.`,
    '',
    `- Recorded assessments of ${report.model.id}: ${a.rows} for ${a.patients} patients${a.firstAt ? `, ${a.firstAt.slice(0, 10)} to ${a.lastAt!.slice(0, 10)}` : ''}. Each patient's first is the prospective index; ${a.laterIgnored} later assessment${a.laterIgnored === 1 ? ' was' : 's were'} ignored.${a.unreadable > 0 ? ` ${a.unreadable} could not be read.` : ''}`,
    `- Outcomes file: ${o.dataRows} rows; ${o.joined} joined, ${excludedRows} excluded.`,
    `- Assessed patients without a usable outcome: ${o.assessedWithoutOutcome.absent} absent from the outcomes file, ${o.assessedWithoutOutcome.excluded} whose row was excluded.`,
    `- Evaluated: ${c.count} patients, ${c.events} incident fractures (${pct(c.events / c.count)}), mean follow-up ${c.meanFollowUpMonths.toFixed(1)} months (longest ${c.maxFollowUpYears.toFixed(2)} years).`,
    '',
  ];
  if (excludedRows > 0) {
    out.push(
      table(
        ['Excluded outcome rows', 'Rows', 'Lines'],
        o.excludedByReason.map((r) => [r.label, String(r.count), lines(o.excluded.filter((e) => e.reason === r.reason).map((e) => e.line))]),
      ),
      '',
    );
  }
  return out;
}

export function renderRecordedMarkdown(report: RecordedEvaluationReport, title: string): string {
  const { metrics: m, followUp, calibrationHorizon: horizon } = report;
  const out: string[] = [`# ${title}`, '', ...header(report), '', '## Cohort', '', ...cohortSection(report)];

  out.push('## Follow-up at the horizons of the model card', '');
  out.push(
    table(
      ['Horizon', 'Observed beyond it', 'Events by it', 'Evaluated'],
      followUp.map((f) => [years(f.time), String(f.observedBeyond), String(f.eventsBy), f.evaluable ? 'yes' : 'no: nobody is observed beyond it']),
    ),
    '',
  );

  out.push('## Discrimination, accuracy and calibration', '');
  const rows: string[][] = [
    ["Harrell's C (95 % CI)", ...cell(m.harrellC, (h) => `${f3(h.value)} (${f3(h.ci95[0])}–${f3(h.ci95[1])})`)],
    [`Uno's C (τ = ${m.unoC.estimable ? years(m.unoC.tau) : '–'})`, ...cell(m.unoC, (u) => f3(u.value))],
    ...m.auc.map((a) => [`AUC(${years(a.time)})`, ...cell(a, (v) => `${f3(v.value)} (${v.cases} cases, ${v.controls} controls)`)]),
    ...m.brier.map((b) => [`Brier (${years(b.time)})`, f3(b.value), '']),
    [`Integrated Brier (${m.integratedBrier.estimable ? `${m.integratedBrier.from}–${m.integratedBrier.to} y` : '–'})`, ...cell(m.integratedBrier, (v) => f3(v.value))],
    [`Calibration slope (${horizon === null ? '–' : years(horizon)})`, ...cell(m.calibration, (c) => f2(c.slope))],
    [`Observed / predicted (${horizon === null ? '–' : years(horizon)})`, ...cell(m.calibration, (c) => f2(c.observedToPredicted))],
    ['D-calibration p', m.dCalibration.pValue < 0.001 ? '< 0.001' : f3(m.dCalibration.pValue), ''],
  ];
  if (m.harrellC.estimable) rows[0]![2] = `${m.harrellC.comparablePairs} comparable pairs; ${m.harrellC.bootstrapReplicates} bootstrap replicates`;
  out.push(table(['Metric', 'Value', 'Note'], rows), '');

  if (m.calibration.estimable) {
    const c = m.calibration;
    out.push(`## Calibration at ${c.horizon} years, by group of predicted risk`, '');
    out.push(
      table(
        ['Group', 'n', 'Events by horizon', 'Mean predicted risk', 'Observed (Kaplan–Meier)', '± SE'],
        c.groups.map((g, k) => [String(k + 1), String(g.n), String(g.events), pct(g.meanPredictedRisk), pct(g.observedRisk), pct(g.observedRiskStdErr)]),
      ),
      '',
      `Slope ${f2(c.slope)}, intercept ${f3(c.intercept)}; observed ${pct(c.observedRisk)} vs mean predicted ${pct(c.meanPredictedRisk)} (predicted risk 1 − S(t) from each recorded assessment).`,
      '',
    );
  }

  const at = report.bands.horizon;
  out.push(`## Risk bands (assigned at ${report.bandHorizon} years when the assessment was made)`, '');
  out.push(
    table(
      ['Band', 'Patients', 'Events in follow-up', ...(at === null ? [] : [`Events by ${years(at)}`, `Mean predicted risk (${years(at)})`, `Observed risk (${years(at)}, Kaplan–Meier)`, '± SE'])],
      report.bands.rows.map((b) => [
        b.label,
        String(b.n),
        String(b.eventsInFollowUp),
        ...(b.atHorizon === null ? [] : [String(b.atHorizon.events), pct(b.atHorizon.meanPredictedRisk), pct(b.atHorizon.observedRisk), pct(b.atHorizon.observedRiskStdErr)]),
      ]),
    ),
    '',
  );
  if (report.notes.length > 0) out.push('## Notes', '', ...report.notes.map((n) => `- ${n}`), '');
  return `${out.join('\n').trimEnd()}\n`;
}
