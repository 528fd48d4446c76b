// state.js — what the portal remembers between pages, in memory only.
// Patient data never goes to storage: a reload of the patient page returns
// to the search page.

export const state = {
  patient: null,      // the regional Patient (PDQm answer) the clinician opened
  record: null,       // the loaded cross-hospital record of that patient (patient.js)
  breakGlass: null,   // {patientId, reason} once the clinician broke the glass for that patient
  lastSearch: null,   // {results, query} of the last patient search
  flash: null,        // a message key to show once on the next page
  orgs: null,         // Map member id → name (GET /fhir/Organization)
};

export function resetState() {
  state.patient = null;
  state.record = null;
  state.breakGlass = null;
  state.lastSearch = null;
  state.orgs = null;
}
