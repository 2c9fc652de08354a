/**
 * Imported first by benchmarks that start a twin: the handlers' Powertools loggers read their level when
 * their modules load, and a run with hundreds of viewers would print a line per session and per report.
 */
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
