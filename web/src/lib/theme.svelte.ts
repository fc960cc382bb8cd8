/**
 * Light (sunlight) or dark (a control room). Without a choice the page
 * follows the phone's setting (prefers-color-scheme); a choice made with the
 * toggle is kept in localStorage. The theme in effect is data-theme on
 * <html> (styles.css) and `theme.current` for what draws its own colours
 * (the graphs).
 */
export type Theme = 'light' | 'dark';

const KEY = 'fieldcast.theme';

function stored(): Theme | undefined {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : undefined;
  } catch {
    return undefined;
  }
}

class ThemeState {
  current = $state<Theme>('light');
  #system = matchMedia('(prefers-color-scheme: dark)');

  constructor() {
    this.#apply(stored() ?? this.#systemTheme());
    this.#system.addEventListener('change', () => {
      if (!stored()) this.#apply(this.#systemTheme());
    });
  }

  /** The toggle: the other theme, remembered. */
  toggle(): void {
    const next: Theme = this.current === 'dark' ? 'light' : 'dark';
    try {
      localStorage.setItem(KEY, next);
    } catch {
      // Private mode: the choice holds until the page is closed.
    }
    this.#apply(next);
  }

  #systemTheme(): Theme {
    return this.#system.matches ? 'dark' : 'light';
  }

  #apply(t: Theme): void {
    this.current = t;
    document.documentElement.dataset['theme'] = t;
  }
}

export const theme = new ThemeState();
