// The radiograph the model read, as the model saw it, with a toggle to the explanation overlay. The
// image loads after the curves are drawn; the explanation only when asked for (it takes the service
// a few seconds to compute), with a "preparing" line, and an error line if it fails.
import type { Assessment } from '../../src/api/smart-api-contract.js';
import { ApiFailure } from './api.js';
import { fill, h } from './dom.js';
import { day } from './format.js';
import { failureMessage } from './messages.js';

export interface ImageSource {
  load(kind: 'radiograph' | 'explanation'): Promise<string>;
}

function viewText(view: Assessment['image']['view']): string {
  return view === 'unknown' ? 'view not recorded' : `${view === 'lateral' ? 'lateral' : view.toUpperCase()} view`;
}

function why(error: unknown): string {
  return error instanceof ApiFailure ? (error.code === 'not-found' ? 'the service has no image for this assessment' : failureMessage(error.code).title.toLowerCase()) : 'an unexpected error';
}

export class RadiographPanel {
  readonly element: HTMLElement;
  private readonly img: HTMLImageElement;
  private readonly status: HTMLElement;
  private readonly toggle: HTMLInputElement;
  private readonly legend: HTMLElement;
  private readonly urls: { radiograph?: string; explanation?: string } = {};
  private explanation: Promise<string> | null = null;

  constructor(
    private readonly assessment: Assessment,
    private readonly source: ImageSource,
  ) {
    const { image } = assessment;
    const description = `Lumbar spine ${image.modality}, ${viewText(image.view)}, ${day(image.date)}`;
    this.img = h('img', { id: 'radiograph-img', alt: `${description}: the radiograph the model read`, hidden: true, width: 192, height: 256 });
    this.status = h('p', { id: 'overlay-status', class: 'image-status', role: 'status' }, 'Loading the radiograph…');
    this.toggle = h('input', { type: 'checkbox', id: 'overlay-toggle', disabled: true });
    this.toggle.addEventListener('change', () => void this.showOverlay(this.toggle.checked));
    this.legend = h(
      'p',
      { class: 'legend', id: 'overlay-legend', hidden: true },
      h('span', { class: 'swatch swatch-red', 'aria-hidden': 'true' }),
      ' Red: regions that raise the predicted risk  ',
      h('span', { class: 'swatch swatch-blue', 'aria-hidden': 'true' }),
      ' Blue: regions that lower it',
    );
    const notes = [...assessment.caveats, ...image.notes];
    this.element = h(
      'section',
      { class: 'panel radiograph', 'aria-labelledby': 'radiograph-title' },
      h('h2', { id: 'radiograph-title' }, 'Radiograph'),
      h('figure', { class: 'xray' }, h('div', { class: 'xray-frame' }, this.img), h('figcaption', { id: 'image-used' }, `${description}${image.lossy ? ' · lossy compressed' : ''}.`)),
      h('label', { class: 'switch', for: 'overlay-toggle' }, this.toggle, ' Show explanation overlay'),
      this.status,
      this.legend,
      notes.length > 0 ? h('ul', { class: 'caveats', id: 'image-caveats' }, ...notes.map((n) => h('li', null, n))) : null,
    );
  }

  /** Starts loading the radiograph (not the explanation). */
  async load(): Promise<void> {
    try {
      this.urls.radiograph = await this.source.load('radiograph');
      this.img.src = this.urls.radiograph;
      this.img.hidden = false;
      fill(this.status);
      this.toggle.disabled = false;
    } catch (error) {
      fill(this.status, `The radiograph could not be shown: ${why(error)}.`);
      this.status.classList.add('error-text');
    }
  }

  private async showOverlay(on: boolean): Promise<void> {
    this.status.classList.remove('error-text');
    if (!on) {
      if (this.urls.radiograph) this.img.src = this.urls.radiograph;
      this.img.alt = this.img.alt.replace(' with the explanation overlay', '');
      this.legend.hidden = true;
      fill(this.status);
      return;
    }
    if (!this.urls.explanation) {
      fill(this.status, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Preparing the explanation map… this can take a few seconds.');
      this.explanation ??= this.source.load('explanation');
      try {
        this.urls.explanation = await this.explanation;
      } catch (error) {
        this.explanation = null;
        this.toggle.checked = false;
        fill(this.status, `The explanation could not be prepared: ${why(error)}.`);
        this.status.classList.add('error-text');
        return;
      }
    }
    if (!this.toggle.checked) return;
    this.img.src = this.urls.explanation;
    if (!this.img.alt.includes('overlay')) this.img.alt += ' with the explanation overlay';
    this.legend.hidden = false;
    fill(this.status, 'Showing the explanation overlay.');
  }
}
