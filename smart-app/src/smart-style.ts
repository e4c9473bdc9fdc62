// Applies the EHR's SMART style (`smart_style_url`) to the page. A failure to fetch or read it is
// ignored: the app's own palette stands.
import { smartStyleVariables } from './style-vars.js';

export async function applySmartStyle(url: string | null, root: HTMLElement = document.documentElement): Promise<void> {
  if (url === null) return;
  try {
    const response = await fetch(url, { credentials: 'omit', signal: AbortSignal.timeout(5000) });
    if (!response.ok) return;
    const vars = smartStyleVariables(await response.json());
    for (const [name, value] of Object.entries(vars)) root.style.setProperty(name, value);
    root.dataset.smartStyle = Object.keys(vars).length > 0 ? 'applied' : 'ignored';
  } catch {
    // The app's own colours stay.
  }
}
