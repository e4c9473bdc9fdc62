// Survival-model evaluation: the public API (see README.md for definitions and conventions).
export type { NumericVector } from './input.js';
export { kaplanMeier, censoringDistribution, survivalAt, survivalBefore } from './kaplan-meier.js';
export type { KaplanMeierCurve, SurvivalStep } from './kaplan-meier.js';
export type { IpcwOptions } from './ipcw.js';
export { harrellC, unoC } from './concordance.js';
export type { ConcordanceResult, UnoConcordanceResult, UnoOptions } from './concordance.js';
export { cumulativeDynamicAuc } from './time-dependent-auc.js';
export type { TimeDependentAucResult } from './time-dependent-auc.js';
export { brierScore, integratedBrierScore } from './brier.js';
export type { IntegratedBrierResult } from './brier.js';
export { calibrationAtHorizon, dCalibration } from './calibration.js';
export type { CalibrationGroup, CalibrationOptions, CalibrationResult, DCalibrationResult } from './calibration.js';
export { designMatrix, fitCox, linearPredictor, breslowBaseline } from './cox.js';
export type { BaselineHazard, CoxFit, CoxOptions, CoxTies, DesignMatrix } from './cox.js';
