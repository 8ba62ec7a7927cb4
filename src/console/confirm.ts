import { h } from './dom.js';

/**
 * Asks before a mutation, in a modal `<dialog>` (focus moves into it, Escape cancels, focus returns after).
 * Resolves true only when the operator presses the confirm button.
 */
export function confirmAction(title: string, text: string, confirmLabel: string): Promise<boolean> {
  const opener = document.activeElement as HTMLElement | null;
  return new Promise((resolve) => {
    const heading = h('h2', { id: 'confirm-title' }, title);
    const cancel = h('button', { type: 'button', class: 'secondary', 'data-confirm': 'cancel' }, 'Cancel');
    const ok = h('button', { type: 'button', class: 'danger', 'data-confirm': 'ok' }, confirmLabel);
    const dialog = h(
      'dialog',
      { 'aria-labelledby': 'confirm-title', class: 'confirm' },
      heading,
      h('p', {}, text),
      h('div', { class: 'actions' }, cancel, ok),
    );
    let answer = false;
    cancel.addEventListener('click', () => dialog.close());
    ok.addEventListener('click', () => {
      answer = true;
      dialog.close();
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      opener?.focus();
      resolve(answer);
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
