import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * One pre-configured logger and metrics instance per function, shared by its modules.
 * Service name and metrics namespace come from the standard Powertools environment variables
 * (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE) that the CDK constructs set.
 */
export const logger = new Logger();
export const metrics = new Metrics();
