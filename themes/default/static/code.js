// vaultc default theme: colours the code blocks of a note (highlight.js) and draws its
// diagrams (mermaid). Loaded, after those libraries, only by pages that have either; without
// scripts both stay readable as their source.
(function () {
  'use strict';
  const hljs = window.hljs;
  if (hljs) {
    // Only blocks that name their language (```rust): guessing is slow and often wrong.
    for (const code of document.querySelectorAll('pre > code[class*="language-"]')) {
      const lang = (/(?:^|\s)language-(\S+)/.exec(code.className) || [])[1];
      if (lang && hljs.getLanguage(lang)) hljs.highlightElement(code);
    }
  }
  const mermaid = window.mermaid;
  if (mermaid) {
    const dark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
    // `strict`: labels are text, clicks run no script (a vault may come from anyone).
    mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: dark ? 'dark' : 'default' });
    mermaid.run({ querySelector: 'pre.mermaid', suppressErrors: true });
  }
})();
