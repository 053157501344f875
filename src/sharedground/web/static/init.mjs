// Progressive enhancement only: every page works without this file.
// The NHS.UK frontend template sets these classes with an inline script; the survey's
// Content-Security-Policy forbids inline script, so this module does it instead.
import { initAll } from './nhsuk/nhsuk-frontend.min.js'

document.body.classList.add('js-enabled', 'nhsuk-frontend-supported')
initAll()
