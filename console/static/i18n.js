// Interface text in Finnish and English. Values of the server's lists (vocabulary.js:
// roles, statuses, directions, kinds…) are shown through `named`, from the `names` tables;
// tests/console keeps both languages' keys equal and every listed value named.

const TEXT = {
  fi: {
    language: "In English", logout: "Kirjaudu ulos", login: "Kirjaudu sisään",
    username: "Käyttäjätunnus", password: "Salasana", loggedInAs: "Kirjautunut:",
    recordings: "Tallenteet", training: "Koulutustallenteet", customers: "Asiakkaat",
    newRequest: "Uusi rekisteripyyntö", requests: "Rekisteripyynnöt", holds: "Oikeudelliset pidot",
    audit: "Lokitapahtumat", users: "Käyttäjät",
    started: "Alkoi", duration: "Kesto", caller: "Soittaja", agent: "Vastaaja",
    status: "Tila", customer: "Asiakas", released: "Koulutuskäytössä", more: "Näytä lisää",
    none: "Ei rivejä.", hidden: "piilotettu", yes: "kyllä", no: "ei", unlinked: "ei liitetty",
    from: "Alkaen", to: "Päättyen", callerNumber: "Soittajan numero", onlyUnlinked: "Vain liittämättömät",
    search: "Hae", clear: "Tyhjennä", open: "Avaa", back: "Takaisin",
    notYours: "Tämä sivu ei kuulu roolisi tehtäviin.", notFound: "Sivua ei ole.",
    recording: "Tallenne", direction: "Suunta", serviceLine: "Palvelunumero",
    noticePlayed: "Tallennustiedote soitettu", durationMismatch: "Kesto poikkeaa ilmoitetusta",
    purpose: "Kuuntelun tarkoitus", choosePurpose: "Valitse tarkoitus ennen kuuntelua",
    play: "Toista", pause: "Tauko", position: "Kohta", download: "Lataa tiedosto",
    releaseForTraining: "Vapauta koulutukseen", withdrawTraining: "Peru koulutuskäyttö",
    reason: "Perustelu", notPlayable: "Tallenne ei ole vielä kuunneltavissa.",
    channelNames: { agent: "asiakaspalvelija", customer: "asiakas", mixed: "molemmat", left: "vasen", right: "oikea" },
    searchCustomers: "Hae nimellä, puhelinnumerolla, asiakasnumerolla tai henkilötunnuksella",
    name: "Nimi", customerNumber: "Asiakasnumero", roles: "Roolit", turvakielto: "Turvakielto",
    turvakieltoNotice: "Asiakkaalla on turvakielto: yhteys- ja osoitetiedot näkyvät vain tehtävään oikeutetuille.",
    phones: "Puhelinnumerot", emails: "Sähköpostit", addresses: "Osoitteet", henkilotunnus: "Henkilötunnus",
    leases: "Voimassa olevat vuokrasopimukset", marketing: "Suoramarkkinointi",
    contactLog: "Yhteydenottoloki", addContact: "Lisää yhteydenotto", channel: "Kanava",
    topic: "Aihe", note: "Mitä sovittiin", at: "Aika", staff: "Kirjaaja", save: "Tallenna",
    linkedRecordings: "Asiakkaan tallenteet", unlinkedCalls: "Liittämättömät puhelut",
    linkHere: "Liitä tähän asiakkaaseen", linked: "Liitetty.", saved: "Tallennettu.",
    kind: "Pyynnön laji", subject: "Rekisteröity", subjectType: "Tunniste", received: "Saapui",
    due: "Määräaika", overdue: "myöhässä", create: "Luo", filterStatus: "Tila", all: "kaikki",
    verify: "Vahvista henkilöllisyys", method: "Miten henkilöllisyys tarkistettiin",
    fulfil: "Toteuta", deny: "Hylkää", extend: "Jatka määräaikaa", until: "Uusi määräaika",
    progress: "Eteneminen", report: "Raportti", downloadExport: "Lataa vienti (ZIP)",
    downloadNote: "Linkki toimii, kunnes vienti on ladattu kokonaan kerran; keskeytynyt lataus jatkuu samasta linkistä. Linkki vanhenee",
    verifiedBy: "Vahvistaja", denialReason: "Hylkäyksen syy",
    placeHold: "Aseta pito", recordingIds: "Tallenteiden tunnisteet (pilkuin eroteltuna)",
    customerId: "Asiakkaan tunniste", includeReleased: "Näytä myös puretut", release: "Pura",
    placedAt: "Asetettu", placedBy: "Asettaja", target: "Kohde",
    actor: "Tekijä", action: "Toiminto", objectType: "Kohteen laji", objectId: "Kohteen tunniste",
    outcome: "Tulos", displayName: "Nimi", extension: "Alanumero", disabled: "Poissa käytöstä",
    addUser: "Lisää käyttäjä", changeUser: "Muuta käyttäjää", lastCall: "Viimeisin puhelu", newRequestFor: "Rekisteripyyntö tältä asiakkaalta",
    noticeMissing: "Tallennetut puhelut ilman tallennustiedotetta",
    noticeMissingHint: "Soittajalle ei kerrottu tallentamisesta ennen tallennuksen alkua: selvitä syy puhelinjärjestelmästä.", unmatchedAgents: "Tunnistamattomat vastaajat", created: "Luotu.",
    requestCreated: "Pyyntö luotu.",
    newCustomer: "Uusi asiakas", editCustomer: "Muuta asiakkaan tietoja", edit: "Muuta tietoja",
    firstName: "Etunimi", lastName: "Sukunimi", travelDocument: "Matkustusasiakirjan numero",
    customerLanguage: "Asiointikieli", relationshipStart: "Asiakkuus alkoi",
    turvakieltoInForce: "Turvakielto voimassa", turvakieltoStart: "Turvakielto alkoi", turvakieltoEnd: "Turvakielto päättyy",
    assignedAdvisor: "Asumisneuvoja (käyttäjätunnus)", fixFields: "Korjaa merkityt kentät.", required: "pakollinen",
    chooseRole: "valitse vähintään yksi rooli", hetuFormat: "muoto on PPKKVVSNNNT, esimerkiksi 131052-308T",
    hetuDate: "päivämäärä tai yksilönumero ei ole mahdollinen", hetuChecksum: "tarkistusmerkki ei täsmää: tarkista kirjoitusvirhe",
    savedHetu: "Tallennettu:", remove: "Poista", add_phones: "Lisää puhelinnumero", add_emails: "Lisää sähköposti",
    add_addresses: "Lisää osoite", phoneNumber: "Numero", phoneType: "Numeron laji", email: "Sähköposti",
    street: "Katuosoite", postalCode: "Postinumero", city: "Postitoimipaikka", country: "Maakoodi",
    birthDate: "Syntymäaika",
    guardianships: "Edunvalvonta ja huoltajuus", addGuardian: "Lisää edunvalvoja tai huoltaja",
    guardianNumber: "Edunvalvojan tai huoltajan asiakasnumero", guardianshipKind: "Laji", guardian: "Edunvalvoja tai huoltaja",
    ward: "Päämies tai alaikäinen", endToday: "Päätä tänään",
    showIdentityCode: "Näytä henkilötunnus",
    history: "Muutoshistoria", showHistory: "Näytä muutoshistoria", field: "Tieto", oldValue: "Aiempi arvo",
    newValue: "Uusi arvo", changedBy: "Muuttaja", undo: "Peru muutos", undone: "Muutos peruttu.",
    marketingLog: "Suoramarkkinointiluvat ja -kiellot", add_marketingLog: "Kirjaa lupa tai kielto",
    marketingKind: "Markkinoinnin laji", choice: "Valinta", consent: "lupa", ban: "kielto", givenVia: "Annettu",
    inForce: "Voimassa", disclosureLog: "Tietojen luovutukset", add_disclosureLog: "Kirjaa luovutus",
    recipient: "Vastaanottaja", recipientKind: "Vastaanottajan laji", legalBasis: "Peruste", dataDisclosed: "Luovutetut tiedot",
    leaseHistory: "Vuokrasopimukset", addLease: "Lisää vuokrasopimus", leaseNumber: "Sopimusnumero",
    home: "Asunto", period: "Voimassa", terminatedOn: "irtisanottu", parties: "Osapuolet", household: "Asuinkunta",
    terminate: "Irtisano", changeLease: "Muuta", changeEndDate: "Tallenna päättymispäivä", emptyNoEnd: "tyhjä: voimassa toistaiseksi", wholeDate: "kirjoita koko päivämäärä (pp.kk.vvvv)",
    terminatedOnDate: "Irtisanomispäivä", add_parties: "Lisää osapuoli", add_household: "Lisää asukas", partyRole: "Osapuolen rooli",
    memberName: "Asukkaan nimi", property: "Kiinteistö", apartment: "Huoneisto", startDate: "Alkaa", endDate: "Päättyy",
    noSuchCustomer: "asiakasnumerolla ei löydy asiakasta",
    aboutCall: "Puhelu, jota yhteydenotto koskee", noCall: "ei mikään puhelu", loggedContacts: "Kirjatut yhteydenotot",
    downloadedAt: "Ladattu", copyKeptUntil: "Kopio säilytetään", error: "Virhe",
    newCopy: "Anna uusi kopio", newCopyIssued: "Uusi latauslinkki on valmis; aiempi linkki ei enää toimi.",
    newCopyConfirm: "Annetaanko rekisteröidylle uusi kopio samasta viennistä? Aiempi latauslinkki lakkaa toimimasta heti (se vastaa 410 Gone), ja uusi linkki toimii yhden kokonaisen latauksen ajan. Toimenpide kirjataan lokiin.",
    objectsDeleted: "Poistetut tiedostot", objectsPending: "Poistoa odottavat tiedostot",
    itemKind: "Tiedon laji", itemId: "Tunniste", reportTruncated: "Raportissa näkyvät vain ensimmäiset päätökset.",
    exportFiles: "Tiedostoja", exportSize: "Koko", requestRecorded: "Pyyntö on kirjattu; oikaisu tai vastustus hoidetaan rekisterissä käsin.",
    reportKinds: { recording: "tallenne", customer: "asiakas", contact: "yhteydenotto", export: "vienti", staff: "työntekijä" },
    reportActions: { erased: "poistettu", kept: "säilytetty", anonymised: "anonymisoitu", kept_core: "perustiedot säilytetty" },
    reportReasons: {
      subject_request: "rekisteröidyn pyyntö", "legal hold": "oikeudellinen pito", "retention:exports": "vientien säilytysaika päättyi",
      "an active lease needs the core data": "voimassa oleva vuokrasopimus tarvitsee perustiedot",
      "past leases refer to the customer": "päättyneet vuokrasopimukset viittaavat asiakkaaseen",
      "calls an employee answered are the callers' data too; they go with their retention period, and the account is closed by the administrator":
        "työntekijän vastaamat puhelut ovat myös soittajien tietoja: ne poistuvat säilytysajan mukaan, ja pääkäyttäjä sulkee tunnuksen",
    },
    // The server's values (vocabulary.js), one table per list.
    names: {
      roles: {
        admin: "pääkäyttäjä", customer_service: "asiakaspalvelu", trainer: "kouluttaja",
        dpo: "tietosuojavastaava", housing_advisor: "asumisneuvoja",
      },
      purposes: {
        verify_content: "Puhelun sisällön tarkistus", training: "Koulutus",
        subject_request: "Rekisteröidyn pyyntö", legal: "Oikeudellinen asia",
      },
      recording_statuses: { received: "vastaanotettu", processing: "käsittelyssä", ready: "valmis", failed: "epäonnistui" },
      directions: { inbound: "saapuva", outbound: "lähtevä" },
      contact_channels: { phone: "puhelin", email: "sähköposti", visit: "käynti", letter: "kirje", web: "verkko" },
      request_channels: {
        phone: "puhelin", email: "sähköposti", visit: "käynti", letter: "kirje", web: "verkko", web_form: "verkkolomake",
      },
      topics: {
        fault_report: "vikailmoitus", rent: "vuokra", application: "hakemus", termination: "irtisanominen",
        complaint: "valitus", feedback: "palaute", other: "muu",
      },
      request_kinds: { access: "tietojen tarkastus", erasure: "tietojen poisto", rectification: "tietojen oikaisu", objection: "vastustus" },
      request_statuses: {
        identity_unverified: "henkilöllisyys vahvistamatta", verified: "henkilöllisyys vahvistettu",
        processing: "käsittelyssä", completed: "valmis", denied: "hylätty",
      },
      subject_keys: { customer_id: "asiakkaan tunniste", staff_username: "työntekijän käyttäjätunnus", phone_number: "puhelinnumero" },
      subject_types: { customer: "asiakas", staff: "työntekijä", phone: "puhelinnumero" },
      audit_outcomes: { ok: "onnistui", refused: "estetty", failed: "epäonnistui" },
      customer_roles: {
        applicant: "hakija", tenant: "vuokralainen", co_tenant: "toinen vuokralainen", joint_payer: "yhteisvastuullinen maksaja",
        occupant: "asukas", buyer: "ostaja",
      },
      customer_statuses: { active: "nykyinen asiakas", former: "entinen asiakas" },
      phone_types: { mobile: "matkapuhelin", landline: "lankapuhelin", work: "työ", other: "muu" },
      marketing_kinds: { direct_marketing: "suoramarkkinointi", surveys: "kyselyt" },
      customer_languages: { fi: "suomi", sv: "ruotsi", en: "englanti" },
      guardianship_kinds: { edunvalvonta: "edunvalvonta", minor: "alaikäisen huoltajuus" },
      disclosure_recipients: { debt_collection: "perintätoimisto", maintenance: "huoltoyhtiö", authority: "viranomainen", contractor: "urakoitsija", other: "muu" },
      lease_roles: { tenant: "vuokralainen", co_tenant: "toinen vuokralainen", joint_payer: "yhteisvastuullinen maksaja", occupant: "asukas" },
    },
  },
  en: {
    language: "Suomeksi", logout: "Log out", login: "Log in",
    username: "Username", password: "Password", loggedInAs: "Logged in as",
    recordings: "Recordings", training: "Training calls", customers: "Customers",
    newRequest: "New subject request", requests: "Subject requests", holds: "Legal holds",
    audit: "Audit log", users: "Users",
    started: "Started", duration: "Duration", caller: "Caller", agent: "Answered by",
    status: "Status", customer: "Customer", released: "Released for training", more: "Show more",
    none: "Nothing here.", hidden: "hidden", yes: "yes", no: "no", unlinked: "not linked",
    from: "From", to: "To", callerNumber: "Caller number", onlyUnlinked: "Only unlinked calls",
    search: "Search", clear: "Clear", open: "Open", back: "Back",
    notYours: "This page is not part of your role's task.", notFound: "No such page.",
    recording: "Recording", direction: "Direction", serviceLine: "Service line",
    noticePlayed: "Recording notice played", durationMismatch: "Duration differs from the declared one",
    purpose: "Purpose of listening", choosePurpose: "Choose the purpose before listening",
    play: "Play", pause: "Pause", position: "Position", download: "Download file",
    releaseForTraining: "Release for training", withdrawTraining: "Withdraw from training",
    reason: "Reason", notPlayable: "The recording cannot be played yet.",
    channelNames: { agent: "agent", customer: "customer", mixed: "both", left: "left", right: "right" },
    searchCustomers: "Search by name, phone number, customer number or henkilötunnus",
    name: "Name", customerNumber: "Customer number", roles: "Roles", turvakielto: "Turvakielto",
    turvakieltoNotice: "This customer has turvakielto: contact and address data is shown only to those whose task needs it.",
    phones: "Phone numbers", emails: "E-mail addresses", addresses: "Addresses", henkilotunnus: "Henkilötunnus",
    leases: "Leases in force", marketing: "Direct marketing",
    contactLog: "Contact log", addContact: "Add a contact", channel: "Channel",
    topic: "Topic", note: "What was agreed", at: "Time", staff: "Logged by", save: "Save",
    linkedRecordings: "The customer's recordings", unlinkedCalls: "Calls not linked to anyone",
    linkHere: "Link to this customer", linked: "Linked.", saved: "Saved.",
    kind: "Kind of request", subject: "Data subject", subjectType: "Identified by", received: "Received",
    due: "Due", overdue: "overdue", create: "Create", filterStatus: "Status", all: "all",
    verify: "Verify identity", method: "How the identity was checked",
    fulfil: "Fulfil", deny: "Deny", extend: "Extend the deadline", until: "New deadline",
    progress: "Progress", report: "Report", downloadExport: "Download the export (ZIP)",
    downloadNote: "The link works until the export has been downloaded in full once; an interrupted download resumes from the same link. It expires",
    verifiedBy: "Verified by", denialReason: "Reason for denial",
    placeHold: "Place a hold", recordingIds: "Recording ids (comma-separated)",
    customerId: "Customer id", includeReleased: "Show released holds too", release: "Release",
    placedAt: "Placed", placedBy: "Placed by", target: "Applies to",
    actor: "Actor", action: "Action", objectType: "Object type", objectId: "Object id",
    outcome: "Outcome", displayName: "Name", extension: "Extension", disabled: "Disabled",
    addUser: "Add a user", changeUser: "Change account", lastCall: "Last call", newRequestFor: "Subject request from this customer",
    noticeMissing: "Calls recorded without the recording notice",
    noticeMissingHint: "The caller was not told before recording started: find out why in the telephony system.", unmatchedAgents: "Unmatched agents", created: "Created.",
    requestCreated: "Request created.",
    newCustomer: "New customer", editCustomer: "Change the customer's data", edit: "Change data",
    firstName: "First name", lastName: "Last name", travelDocument: "Travel document number",
    customerLanguage: "Language of service", relationshipStart: "Customer since",
    turvakieltoInForce: "Turvakielto in force", turvakieltoStart: "Turvakielto from", turvakieltoEnd: "Turvakielto until",
    assignedAdvisor: "Housing advisor (username)", fixFields: "Please correct the marked fields.", required: "required",
    chooseRole: "choose at least one role", hetuFormat: "use the form DDMMYYCZZZQ, for example 131052-308T",
    hetuDate: "the date or the individual number is not possible", hetuChecksum: "the check character does not match; check for a typo",
    savedHetu: "Saved:", remove: "Remove", add_phones: "Add a phone number", add_emails: "Add an e-mail address",
    add_addresses: "Add an address", phoneNumber: "Number", phoneType: "Kind of number", email: "E-mail",
    street: "Street address", postalCode: "Postal code", city: "City", country: "Country code",
    birthDate: "Date of birth",
    guardianships: "Guardianships", addGuardian: "Add a guardian",
    guardianNumber: "The guardian's customer number", guardianshipKind: "Kind", guardian: "Guardian",
    ward: "Ward", endToday: "End today",
    showIdentityCode: "Show the identity code",
    history: "Change history", showHistory: "Show the change history", field: "Field", oldValue: "Earlier value",
    newValue: "New value", changedBy: "Changed by", undo: "Undo", undone: "Change undone.",
    marketingLog: "Direct marketing consents and bans", add_marketingLog: "Record a consent or ban",
    marketingKind: "Kind of marketing", choice: "Choice", consent: "consent", ban: "ban", givenVia: "Given via",
    inForce: "In force", disclosureLog: "Disclosures", add_disclosureLog: "Record a disclosure",
    recipient: "Recipient", recipientKind: "Kind of recipient", legalBasis: "Legal basis", dataDisclosed: "Data disclosed",
    leaseHistory: "Leases", addLease: "Add a lease", leaseNumber: "Lease number",
    home: "Home", period: "In force", terminatedOn: "terminated", parties: "Parties", household: "Household",
    terminate: "Terminate", changeLease: "Change", changeEndDate: "Save the end date", emptyNoEnd: "empty: in force until further notice", wholeDate: "type the whole date (day, month and year)",
    terminatedOnDate: "Notice given on", add_parties: "Add a party", add_household: "Add a household member", partyRole: "Party's role",
    memberName: "Member's name", property: "Property", apartment: "Apartment", startDate: "Starts", endDate: "Ends",
    noSuchCustomer: "no customer has this customer number",
    aboutCall: "The call this contact is about", noCall: "no call", loggedContacts: "Logged contacts",
    downloadedAt: "Downloaded at", copyKeptUntil: "Copy kept until", error: "Error",
    newCopy: "Issue a new copy", newCopyIssued: "A new download link is ready; the earlier link no longer works.",
    newCopyConfirm: "Issue the data subject a new copy of the same export? The earlier download link stops working at once (it answers 410 Gone), and the new link works for one complete download. The action is audited.",
    objectsDeleted: "Files deleted", objectsPending: "Files waiting for deletion",
    itemKind: "Kind of data", itemId: "Id", reportTruncated: "The report lists only the first decisions.",
    exportFiles: "Files", exportSize: "Size", requestRecorded: "The request is recorded; rectification or objection is handled in the register by hand.",
    reportKinds: { recording: "recording", customer: "customer", contact: "contact", export: "export", staff: "staff member" },
    reportActions: { erased: "erased", kept: "kept", anonymised: "anonymised", kept_core: "core data kept" },
    reportReasons: {
      subject_request: "the data subject's request", "legal hold": "legal hold", "retention:exports": "the retention period of exports ended",
      "an active lease needs the core data": "an active lease needs the core data",
      "past leases refer to the customer": "past leases refer to the customer",
      "calls an employee answered are the callers' data too; they go with their retention period, and the account is closed by the administrator":
        "calls an employee answered are the callers' data too; they go with their retention period, and the account is closed by the administrator",
    },
    // The server's values (vocabulary.js), one table per list.
    names: {
      roles: {
        admin: "administrator", customer_service: "customer service", trainer: "trainer",
        dpo: "data protection officer", housing_advisor: "housing advisor",
      },
      purposes: {
        verify_content: "Verify what was said", training: "Training",
        subject_request: "Data subject request", legal: "Legal matter",
      },
      recording_statuses: { received: "received", processing: "processing", ready: "ready", failed: "failed" },
      directions: { inbound: "inbound", outbound: "outbound" },
      contact_channels: { phone: "phone", email: "e-mail", visit: "visit", letter: "letter", web: "web" },
      request_channels: {
        phone: "phone", email: "e-mail", visit: "visit", letter: "letter", web: "web", web_form: "web form",
      },
      topics: {
        fault_report: "fault report", rent: "rent", application: "application", termination: "termination",
        complaint: "complaint", feedback: "feedback", other: "other",
      },
      request_kinds: { access: "access", erasure: "erasure", rectification: "rectification", objection: "objection" },
      request_statuses: {
        identity_unverified: "identity not verified", verified: "identity verified",
        processing: "processing", completed: "completed", denied: "denied",
      },
      subject_keys: { customer_id: "customer id", staff_username: "staff username", phone_number: "phone number" },
      subject_types: { customer: "customer", staff: "staff member", phone: "phone number" },
      audit_outcomes: { ok: "ok", refused: "refused", failed: "failed" },
      customer_roles: {
        applicant: "applicant", tenant: "tenant", co_tenant: "co-tenant", joint_payer: "joint payer",
        occupant: "occupant", buyer: "buyer",
      },
      customer_statuses: { active: "current customer", former: "former customer" },
      phone_types: { mobile: "mobile", landline: "landline", work: "work", other: "other" },
      marketing_kinds: { direct_marketing: "direct marketing", surveys: "surveys" },
      customer_languages: { fi: "Finnish", sv: "Swedish", en: "English" },
      guardianship_kinds: { edunvalvonta: "edunvalvonta (guardianship of an adult)", minor: "guardian of a minor" },
      disclosure_recipients: { debt_collection: "debt collection", maintenance: "maintenance company", authority: "authority", contractor: "contractor", other: "other" },
      lease_roles: { tenant: "tenant", co_tenant: "co-tenant", joint_payer: "joint payer", occupant: "occupant" },
    },
  },
};

export let language = localStorage.getItem("callrec.language") === "en" ? "en" : "fi";

/** The interface text for `key` in the chosen language. */
export const t = (key) => TEXT[language][key] ?? key;

/** A name from one of the text's tables (the waveform's channels), or the API's own word. */
export const term = (table, value) => TEXT[language][table]?.[value] ?? value;

/** A value of one of the server's lists (`vocabulary.js`: roles, statuses…) in the reader's
 * language; the API's own word where a table lacks it (a parity test keeps them complete). */
export const named = (list, value) => TEXT[language].names[list]?.[value] ?? value;

/** `[value, text]` pairs for a select offering one of the server's lists. */
export const choices = (list, values) => values.map((value) => [value, named(list, value)]);

export function toggleLanguage() {
  language = language === "fi" ? "en" : "fi";
  localStorage.setItem("callrec.language", language);
  document.documentElement.lang = language;
}

/** A timestamp from the API in the reader's language and the browser's time zone, the zone
 * named (the API sends ISO 8601 with an offset; a reader should not have to guess which). */
export const when = (iso) => (iso
  ? new Date(iso).toLocaleString(language === "fi" ? "fi-FI" : "en-GB", { timeZoneName: "short" })
  : "");

/** A date from the API (YYYY-MM-DD) in the reader's language; null stays "". */
export const day = (iso) => (iso ? new Date(`${iso}T00:00:00`).toLocaleDateString(language === "fi" ? "fi-FI" : "en-GB") : "");
