import { readFile } from 'node:fs/promises';
import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { isDeployableStackStatus } from '../../core/doctor-checks';
import { parseTwinOutputsFile, smokeTargetFromOutputs, type SmokeTarget, StackOutputsError, type TwinOutputsFile } from '../../core/stack-outputs';

/** The target of a smoke run read from a deployed stack's outputs (DescribeStacks; read-only). */
export async function readStackTarget(cloudFormation: CloudFormationClient, stackName: string, region: string): Promise<SmokeTarget> {
  let stack;
  try {
    stack = (await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
  } catch (error) {
    // DescribeStacks answers a missing stack with a ValidationError "Stack with id <name> does not exist".
    if (error instanceof Error && error.name === 'ValidationError' && /does not exist/.test(error.message)) {
      throw new StackOutputsError(`no stack ${stackName} in ${region}: deploy it first (\`npx cdk deploy --all\`), or pass --stack/--region of the copy to check`);
    }
    throw error;
  }
  if (!stack) throw new StackOutputsError(`no stack ${stackName} in ${region}`);
  const status = stack.StackStatus ?? 'UNKNOWN';
  if (!isDeployableStackStatus(status)) {
    throw new StackOutputsError(`stack ${stackName} is ${status}, not a finished deployment: \`npm run doctor\` says what to do`);
  }
  const outputs = Object.fromEntries((stack.Outputs ?? []).flatMap((o) => (o.OutputKey && o.OutputValue !== undefined ? [[o.OutputKey, o.OutputValue]] : [])));
  return smokeTargetFromOutputs({ stackName, region }, outputs);
}

/** The outputs file `npm run dev` writes once the twin is up (local/dev.ts). */
export async function readTwinOutputs(path: string): Promise<{ readonly file: TwinOutputsFile; readonly target: SmokeTarget }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new StackOutputsError(`${path} does not exist: is the twin running? Start it with \`npm run dev\` (it writes that file once it is up)`);
    }
    throw error;
  }
  const file = parseTwinOutputsFile(text, path);
  return { file, target: smokeTargetFromOutputs({ stackName: file.stackName, region: file.region }, file.outputs, file.scheme) };
}
