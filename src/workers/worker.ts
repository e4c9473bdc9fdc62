// Worker-thread entry: runs one task from the table and moves its buffers back to the caller.
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { tasks, type TaskMessage } from './tasks.js';

export default async function runTask(message: TaskMessage): Promise<unknown> {
  const { value, transfer } = await tasks[message.task](message.input);
  return move({ [transferableSymbol]: transfer, [valueSymbol]: value });
}
