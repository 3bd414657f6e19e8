// Initialise GOV.UK Frontend components (served as /static/js/init.js).
//
// Loaded as an external module script so a strict Content-Security-Policy
// (script-src 'self', no 'unsafe-inline') works:
//   <script type="module" src="/static/js/init.js"></script>
//
// govuk-frontend.min.js (6.3.0) is an ES module that exports initAll. The
// relative specifier resolves to /static/js/govuk-frontend.min.js.
import { initAll } from './govuk-frontend.min.js'

// GOV.UK Frontend only initialises components when <body> has the
// `govuk-frontend-supported` class. The page template normally adds it with an
// inline <script>, which a no-inline CSP blocks, so add it here instead: a
// browser that runs this module script is a supported browser.
document.body.classList.add('js-enabled', 'govuk-frontend-supported')

initAll()
