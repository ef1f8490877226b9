// Small helpers to find the page's elements (the stable test ids are listed in web/README.md).

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
export const testId = (id) => $(`[data-testid="${id}"]`);
