// Worker-thread entry: runs one task from the table and moves its buffers back to the caller.
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { tasks, type TaskInput, type TaskMessage, type TaskName, type TaskResult } from './tasks.js';

type AnyTask = (input: TaskInput<TaskName>) => Promise<TaskResult<object>>;

export default async function runTask(message: TaskMessage): Promise<unknown> {
  // The message pairs a task with its own input type; TypeScript cannot correlate the two through a
  // union-keyed lookup, so the entry is widened once here.
  const task = tasks[message.task] as AnyTask;
  const { value, transfer } = await task(message.input);
  return move({ [transferableSymbol]: transfer, [valueSymbol]: value });
}
