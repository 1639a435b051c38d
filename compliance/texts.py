"""The fixed words of the privacy notices and the Art. 30 record, in Finnish, Swedish, English.

Only words live here; every figure and every yes-or-no (retention, roles, keep-original,
transcription, two-factor) is filled in by :mod:`compliance.content` from the live system.
The texts follow selkokieli: short sentences, the reader addressed as "you" (sinä, du).
A test keeps the three languages' keys equal.
"""

from __future__ import annotations

from typing import Final

from rights.wording import Language

Table = dict[str, str]

TEXT: Final[dict[Language, Table]] = {
    "fi": {
        "title": "Tietosuojaseloste",
        "page_title": "Tietosuojaselosteet",
        "intro": "Tässä selosteessa kerromme, miten käsittelemme tietojasi. Seloste tehdään "
        "automaattisesti järjestelmän asetuksista. Siksi se kertoo, miten järjestelmä toimii nyt.",
        "generated": "Päivitetty",
        "contents": "Sisältö",
        "other_languages": "Muilla kielillä",
        "todo": "täydennettävä",
        "h_controller": "Rekisterinpitäjä",
        "h_contact": "Yhteyshenkilö ja tietosuojavastaava",
        "h_name": "Rekisterin nimi",
        "h_purpose": "Miksi käsittelemme tietoja ja millä perusteella",
        "h_content": "Mitä tietoja rekisterissä on",
        "h_sources": "Mistä tiedot saadaan",
        "h_disclosures": "Kenelle tietoja annetaan",
        "h_transfers": "Siirrot EU:n ja ETA:n ulkopuolelle",
        "h_protection": "Miten tiedot suojataan",
        "h_complaint": "Oikeus valittaa tietosuojavaltuutetulle",
        "y_tunnus": "Y-tunnus",
        "address": "Osoite",
        "contact": "Yhteystiedot",
        "dpo": "Tietosuojavastaava",
        "dpo_help": "Voit kysyä tietosuojavastaavalta kaikista tietosuoja-asioista.",
        "register.call_recordings": "Asiakaspuheluiden tallenteet",
        "register.customers": "Asiakasrekisteri",
        "subjects.call_recordings": "Tiedot koskevat asiakaspalveluun soittavia ihmisiä ja "
        "työntekijöitä, jotka vastaavat puheluihin.",
        "subjects.customers": "Tiedot koskevat asunnon hakijoita, vuokralaisia, "
        "kanssavuokralaisia, samassa asunnossa asuvia ja heidän edunvalvojiaan.",
        "basis.call_recordings": "Peruste on oikeutettu etumme. Meidän ja sinun pitää voida "
        "tarkistaa, mitä puhelussa sovittiin.",
        "basis.customers": "Peruste on asuntohakemuksesi tai vuokrasopimuksesi. Osa tiedoista "
        "on pakko säilyttää lain takia. Suoramarkkinoinnin peruste on lupasi.",
        "keep_original.on": "Säilytämme myös alkuperäisen äänitiedoston sellaisena kuin "
        "puhelinjärjestelmä sen lähetti.",
        "keep_original.off": "Emme säilytä alkuperäistä äänitiedostoa. Säilytämme vain "
        "pakatun kopion.",
        "transcribe.on": "Puheesta tehdään teksti koneellisesti. Teksti on salattu, ja se "
        "poistetaan yhdessä tallenteen kanssa.",
        "transcribe.off": "Puheesta ei tehdä tekstiä.",
        "transcribe.index": "Jotta puheluita voi hakea sanoilla, jokaisesta sanasta "
        "tallennetaan vain sen perusmuodosta salaisella avaimella laskettu tunniste "
        "(avaimellinen tiiviste), ei itse sanaa. Tunnisteet poistetaan yhdessä tallenteen "
        "kanssa. Teksti on mukana, kun pyydät kopion tiedoistasi.",
        "transcribe.stopped": "Puheesta ei enää tehdä tekstiä. Aiemmin tehdyt tekstit ja "
        "niiden hakutunnisteet säilytetään, teksti salattuna, kunnes tallenne poistetaan.",
        "data.transcript": "puhelu tekstinä (koneellisesti tehty, sanat ajoituksineen) ja "
        "sen sanojen hakutunnisteet",
        "sources.call_recordings": "Tiedot tulevat puhelusta, kun soitat asiakaspalveluumme. "
        "Puhelinjärjestelmä lähettää meille tallenteen ja puhelun tiedot.",
        "notice_at_start": "Kerromme puhelun alussa, että puhelu tallennetaan.",
        "sources.customers": "Saamme tiedot pääosin sinulta: asuntohakemuksesta, "
        "vuokrasopimuksesta ja yhteydenotoistasi. Työntekijämme kirjaavat yhteydenotot.",
        "recipients": "Annamme tietoja näille vastaanottajille:",
        "recipients.none": "Emme anna tietoja säännöllisesti muille.",
        "processors": "Nämä yritykset käsittelevät tietoja meidän puolestamme. Ne saavat "
        "käyttää tietoja vain meidän ohjeidemme mukaan:",
        "processors.none": "Emme käytä ulkopuolisia yrityksiä tietojen käsittelyyn.",
        "disclosure_log": "Luovutuslokin mukaan olemme antaneet tietoja näille:",
        "disclosure_log.none": "Luovutuslokissa ei ole yhtään luovutusta.",
        "disclosure_log.every": "Kirjaamme jokaisen luovutuksen. Näet omat luovutuksesi, kun "
        "pyydät kopion tiedoistasi.",
        "transfers.none": "Emme siirrä tietoja EU:n tai ETA:n ulkopuolelle.",
        "transfers": "Siirrämme tietoja EU:n ja ETA:n ulkopuolelle näin:",
        "accounts": "Jokaisella työntekijällä on oma tunnus.",
        "grants": "{roles} antaa oikeudet tehtävän mukaan. Muut oikeudet eivät ole käytössä.",
        "list_recordings": "Puheluiden tiedot ja soittajan numeron näkevät: {roles}.",
        "download": "Tallenteen voi ladata tiedostona vain: {roles}.",
        "read_register": "Tietoja voivat katsoa: {roles}.",
        "write_register": "Tietoja voivat muuttaa: {roles}.",
        "limit.housing_advisor": "vain omat asiakkaansa, ilman henkilötunnusta",
        "turvakielto": "Jos sinulla on turvakielto, osoitteesi ja yhteystietosi näkyvät vain "
        "niille, jotka tarvitsevat niitä työssään.",
        "encryption.call_recordings": "Äänitallenteet on salattu.",
        "keys_apart": "Salausavaimet pidetään erillään tallenteista.",
        "encryption.customers": "Henkilötunnukset on salattu tietokannassa.",
        "audit": "Jokainen kuuntelu, lataus ja tietojen muutos kirjataan lokiin. Lokia ei voi "
        "muuttaa jälkikäteen.",
        "lockout": "Tunnus lukittuu hetkeksi, jos salasana annetaan monta kertaa väärin.",
        "two_factor": "Näissä rooleissa kirjaudutaan kahdella tunnistustavalla: {roles}.",
        "sso": "Työntekijät kirjautuvat organisaation yhteisellä kirjautumisella.",
        "rights_contact": "Ota yhteyttä:",
        "rights_staff": "Myös puheluun vastannut työntekijä voi pyytää omat tietonsa.",
        "role.admin": "pääkäyttäjä",
        "role.customer_service": "asiakaspalvelu",
        "role.trainer": "kouluttaja",
        "role.dpo": "tietosuojavastaava",
        "role.housing_advisor": "asumisneuvoja",
        "purpose.verify_content": "kuuntelee puhelun, kun pitää tarkistaa, mitä sovittiin.",
        "purpose.training": "kuuntelee koulutukseen valittuja puheluita. Soittajan nimi ja "
        "numero eivät näy.",
        "purpose.subject_request": "kuuntelee puhelun, kun hoitaa tietoja koskevaa pyyntöäsi.",
        "purpose.legal": "kuuntelee puhelun, kun riita tai oikeusasia pitää selvittää.",
        "goal.verify_content": "Tarkistamme puhelusta, mitä sovimme kanssasi. Tämä on "
        "tallentamisen päätarkoitus.",
        "goal.training": "Käytämme joitakin puheluita henkilökunnan koulutukseen. Kouluttaja ei "
        "näe, kuka soitti.",
        "goal.subject_request": "Hoidamme pyyntösi, kun haluat nähdä tai poistaa tietosi.",
        "goal.legal": "Selvitämme riidat ja oikeusasiat.",
        "kind.debt_collection": "perintä",
        "kind.maintenance": "huolto ja kunnossapito",
        "kind.authority": "viranomaiset, joilla on lain mukaan oikeus tietoihin",
        "kind.contractor": "urakoitsijat",
        "kind.other": "muut vastaanottajat",
        "field.controller.name": "rekisterinpitäjän nimi",
        "field.controller.y_tunnus": "Y-tunnus",
        "field.controller.address": "osoite",
        "field.controller.contact": "yhteystiedot",
        "field.dpo.contact": "tietosuojavastaavan yhteystiedot",
        "field.recipients": "vastaanottajat",
        "field.processors": "henkilötietojen käsittelijät",
        "field.transfers": "siirrot EU:n ja ETA:n ulkopuolelle",
    },
    "sv": {
        "title": "Dataskyddsbeskrivning",
        "page_title": "Dataskyddsbeskrivningar",
        "intro": "I den här beskrivningen berättar vi hur vi behandlar dina uppgifter. "
        "Beskrivningen skapas automatiskt av systemets inställningar. Därför visar den hur "
        "systemet fungerar just nu.",
        "generated": "Uppdaterad",
        "contents": "Innehåll",
        "other_languages": "På andra språk",
        "todo": "ska kompletteras",
        "h_controller": "Personuppgiftsansvarig",
        "h_contact": "Kontaktperson och dataskyddsombud",
        "h_name": "Registrets namn",
        "h_purpose": "Varför vi behandlar uppgifterna och med vilken grund",
        "h_content": "Vilka uppgifter registret innehåller",
        "h_sources": "Varifrån uppgifterna kommer",
        "h_disclosures": "Vem som får uppgifterna",
        "h_transfers": "Överföringar utanför EU och EES",
        "h_protection": "Hur uppgifterna skyddas",
        "h_complaint": "Rätt att klaga hos dataombudsmannen",
        "y_tunnus": "FO-nummer",
        "address": "Adress",
        "contact": "Kontaktuppgifter",
        "dpo": "Dataskyddsombud",
        "dpo_help": "Du kan fråga dataskyddsombudet om allt som gäller dataskydd.",
        "register.call_recordings": "Inspelningar av kundsamtal",
        "register.customers": "Kundregister",
        "subjects.call_recordings": "Uppgifterna gäller personer som ringer till kundtjänsten "
        "och anställda som svarar i telefon.",
        "subjects.customers": "Uppgifterna gäller bostadssökande, hyresgäster, medhyresgäster, "
        "personer som bor i samma bostad och deras intressebevakare.",
        "basis.call_recordings": "Grunden är vårt berättigade intresse. Både vi och du ska kunna "
        "kontrollera vad som avtalades i samtalet.",
        "basis.customers": "Grunden är din bostadsansökan eller ditt hyresavtal. En del "
        "uppgifter måste vi spara enligt lag. Grunden för direktmarknadsföring är ditt samtycke.",
        "keep_original.on": "Vi sparar också den ursprungliga ljudfilen så som "
        "telefonsystemet skickade den.",
        "keep_original.off": "Vi sparar inte den ursprungliga ljudfilen. Vi sparar bara en "
        "komprimerad kopia.",
        "transcribe.on": "Talet görs maskinellt om till text. Texten är krypterad och raderas "
        "tillsammans med inspelningen.",
        "transcribe.off": "Talet görs inte om till text.",
        "transcribe.index": "För att samtal ska kunna sökas med ord sparas för varje ord "
        "bara en kod som räknas fram ur ordets grundform med en hemlig nyckel (en nycklad "
        "hash), aldrig själva ordet. Koderna raderas tillsammans med inspelningen. Texten "
        "ingår när du begär en kopia av dina uppgifter.",
        "transcribe.stopped": "Talet görs inte längre om till text. Texter som gjorts "
        "tidigare och deras sökkoder sparas, texten krypterad, tills inspelningen raderas.",
        "data.transcript": "samtalet som text (maskinellt gjord, orden med tidpunkter) och "
        "sökkoder för dess ord",
        "sources.call_recordings": "Uppgifterna kommer från samtalet när du ringer till vår "
        "kundtjänst. Telefonsystemet skickar inspelningen och samtalets uppgifter till oss.",
        "notice_at_start": "Vi berättar i början av samtalet att samtalet spelas in.",
        "sources.customers": "Vi får uppgifterna främst av dig: från bostadsansökan, "
        "hyresavtalet och när du kontaktar oss. Våra anställda antecknar kontakterna.",
        "recipients": "Vi lämnar ut uppgifter till dessa mottagare:",
        "recipients.none": "Vi lämnar inte regelbundet ut uppgifter till andra.",
        "processors": "Dessa företag behandlar uppgifterna för vår räkning. De får använda "
        "uppgifterna bara enligt våra anvisningar:",
        "processors.none": "Vi anlitar inga andra företag för att behandla uppgifterna.",
        "disclosure_log": "Enligt utlämningsloggen har vi lämnat ut uppgifter till:",
        "disclosure_log.none": "Utlämningsloggen har inga utlämningar.",
        "disclosure_log.every": "Vi antecknar varje utlämning. Du ser dina utlämningar när du "
        "ber om en kopia av dina uppgifter.",
        "transfers.none": "Vi överför inte uppgifter utanför EU eller EES.",
        "transfers": "Vi överför uppgifter utanför EU och EES så här:",
        "accounts": "Varje anställd har ett eget användarkonto.",
        "grants": "{roles} ger rättigheter enligt arbetsuppgift. Andra rättigheter finns inte.",
        "list_recordings": "Samtalens uppgifter och uppringarens nummer ses av: {roles}.",
        "download": "Bara dessa kan ladda ner en inspelning som fil: {roles}.",
        "read_register": "Uppgifterna kan ses av: {roles}.",
        "write_register": "Uppgifterna kan ändras av: {roles}.",
        "limit.housing_advisor": "bara sina egna kunder, utan personbeteckning",
        "turvakielto": "Om du har spärrmarkering syns din adress och dina kontaktuppgifter "
        "bara för dem som behöver dem i sitt arbete.",
        "encryption.call_recordings": "Ljudinspelningarna är krypterade.",
        "keys_apart": "Krypteringsnycklarna hålls åtskilda från inspelningarna.",
        "encryption.customers": "Personbeteckningarna är krypterade i databasen.",
        "audit": "Varje avlyssning, nedladdning och ändring antecknas i en logg. Loggen kan inte "
        "ändras i efterhand.",
        "lockout": "Kontot låses en stund om lösenordet anges fel många gånger.",
        "two_factor": "I dessa roller loggar man in med två identifieringssätt: {roles}.",
        "sso": "De anställda loggar in med organisationens gemensamma inloggning.",
        "rights_contact": "Kontakta oss:",
        "rights_staff": "Också den anställda som svarade i telefon kan be om sina egna uppgifter.",
        "role.admin": "huvudanvändaren",
        "role.customer_service": "kundtjänsten",
        "role.trainer": "utbildaren",
        "role.dpo": "dataskyddsombudet",
        "role.housing_advisor": "boenderådgivaren",
        "purpose.verify_content": "lyssnar på samtalet när det behövs för att kontrollera vad "
        "som avtalades.",
        "purpose.training": "lyssnar på samtal som valts för utbildning. Uppringarens namn och "
        "nummer syns inte.",
        "purpose.subject_request": "lyssnar på samtalet när hen behandlar din begäran om dina "
        "uppgifter.",
        "purpose.legal": "lyssnar på samtalet när en tvist eller ett rättsligt ärende ska utredas.",
        "goal.verify_content": "Vi kontrollerar i samtalet vad vi avtalade med dig. Det är "
        "huvudsyftet med inspelningen.",
        "goal.training": "Vi använder en del samtal för att utbilda personalen. Utbildaren ser "
        "inte vem som ringde.",
        "goal.subject_request": "Vi behandlar din begäran när du vill se eller radera dina "
        "uppgifter.",
        "goal.legal": "Vi utreder tvister och rättsliga ärenden.",
        "kind.debt_collection": "indrivning",
        "kind.maintenance": "fastighetsskötsel och underhåll",
        "kind.authority": "myndigheter som har rätt till uppgifterna enligt lag",
        "kind.contractor": "entreprenörer",
        "kind.other": "andra mottagare",
        "field.controller.name": "den personuppgiftsansvariges namn",
        "field.controller.y_tunnus": "FO-nummer",
        "field.controller.address": "adress",
        "field.controller.contact": "kontaktuppgifter",
        "field.dpo.contact": "dataskyddsombudets kontaktuppgifter",
        "field.recipients": "mottagare",
        "field.processors": "personuppgiftsbiträden",
        "field.transfers": "överföringar utanför EU och EES",
    },
    "en": {
        "title": "Privacy notice",
        "page_title": "Privacy notices",
        "intro": "This notice tells you how we handle your data. The notice is made "
        "automatically from the system's settings. So it shows how the system works now.",
        "generated": "Updated",
        "contents": "Contents",
        "other_languages": "In other languages",
        "todo": "to be completed",
        "h_controller": "Controller",
        "h_contact": "Contact person and data protection officer",
        "h_name": "Name of the register",
        "h_purpose": "Why we process the data and on what legal basis",
        "h_content": "What data the register holds",
        "h_sources": "Where the data comes from",
        "h_disclosures": "Who receives the data",
        "h_transfers": "Transfers outside the EU and EEA",
        "h_protection": "How the data is protected",
        "h_complaint": "Right to complain to the Data Protection Ombudsman",
        "y_tunnus": "Business ID (Y-tunnus)",
        "address": "Address",
        "contact": "Contact",
        "dpo": "Data protection officer",
        "dpo_help": "You can ask the data protection officer about anything to do with your data.",
        "register.call_recordings": "Customer call recordings",
        "register.customers": "Customer register",
        "subjects.call_recordings": "The data is about people who call customer service and "
        "about the staff who answer the calls.",
        "subjects.customers": "The data is about applicants, tenants, co-tenants, people who "
        "live in the same home, and their guardians.",
        "basis.call_recordings": "The legal basis is our legitimate interest. Both we and you "
        "need to be able to check what was agreed on a call.",
        "basis.customers": "The legal basis is your application or your lease. Some data we "
        "must keep by law. The basis for direct marketing is your consent.",
        "keep_original.on": "We also keep the original audio file as the telephone system sent it.",
        "keep_original.off": "We do not keep the original audio file. We keep only a "
        "compressed copy.",
        "transcribe.on": "Speech is turned into text by machine. The text is encrypted, and it "
        "is deleted together with the recording.",
        "transcribe.off": "Speech is not turned into text.",
        "transcribe.index": "So that calls can be searched by word, only a code computed "
        "from each word's base form with a secret key (a keyed hash) is stored, never the word "
        "itself. The codes are deleted together with the recording. The text is included when "
        "you ask for a copy of your data.",
        "transcribe.stopped": "Speech is no longer turned into text. Texts made earlier and "
        "their search codes are kept, the text encrypted, until the recording is deleted.",
        "data.transcript": "the call as text (made by machine, the words with their times) "
        "and search codes of its words",
        "sources.call_recordings": "The data comes from the call when you call our customer "
        "service. The telephone system sends us the recording and the call's details.",
        "notice_at_start": "We tell you at the start of the call that the call is recorded.",
        "sources.customers": "We get the data mostly from you: from your application, your "
        "lease and when you contact us. Our staff note down each contact.",
        "recipients": "We give data to these recipients:",
        "recipients.none": "We do not regularly give data to anyone else.",
        "processors": "These companies process the data for us. They may use the data only as "
        "we instruct them:",
        "processors.none": "We do not use other companies to process the data.",
        "disclosure_log": "According to the disclosure log, we have given data to:",
        "disclosure_log.none": "The disclosure log has no disclosures.",
        "disclosure_log.every": "We record every disclosure. You see your own when you ask "
        "for a copy of your data.",
        "transfers.none": "We do not transfer data outside the EU or EEA.",
        "transfers": "We transfer data outside the EU and EEA as follows:",
        "accounts": "Every member of staff has their own account.",
        "grants": "{roles} gives each person the rights their task needs. No other rights exist.",
        "list_recordings": "The call details and the caller's number are seen by: {roles}.",
        "download": "Only these can download a recording as a file: {roles}.",
        "read_register": "The data can be seen by: {roles}.",
        "write_register": "The data can be changed by: {roles}.",
        "limit.housing_advisor": "only their own customers, without the personal identity code",
        "turvakielto": "If you have a non-disclosure order (turvakielto), your address and "
        "contact details are shown only to those who need them for their work.",
        "encryption.call_recordings": "The recordings are encrypted.",
        "keys_apart": "The keys are kept apart from the recordings.",
        "encryption.customers": "Personal identity codes are encrypted in the database.",
        "audit": "Every listening, download and change of data is written to a log. The log "
        "cannot be changed afterwards.",
        "lockout": "An account is locked for a while after many wrong passwords.",
        "two_factor": "These roles log in with two ways of identification: {roles}.",
        "sso": "Staff log in with the organisation's single sign-on.",
        "rights_contact": "Contact us:",
        "rights_staff": "The member of staff who answered the call can also ask for their own "
        "data.",
        "role.admin": "the main user",
        "role.customer_service": "customer service",
        "role.trainer": "a trainer",
        "role.dpo": "the data protection officer",
        "role.housing_advisor": "a housing advisor",
        "purpose.verify_content": "listens to a call to check what was agreed.",
        "purpose.training": "listens to calls chosen for training. The caller's name and number "
        "are hidden.",
        "purpose.subject_request": "listens to a call when handling your request about your data.",
        "purpose.legal": "listens to a call when a dispute or a legal claim must be settled.",
        "goal.verify_content": "We check on the call what we agreed with you. This is the main "
        "reason for recording.",
        "goal.training": "We use some calls to train our staff. The trainer does not see who "
        "called.",
        "goal.subject_request": "We handle your request when you want to see or delete your data.",
        "goal.legal": "We settle disputes and legal claims.",
        "kind.debt_collection": "debt collection",
        "kind.maintenance": "maintenance and repairs",
        "kind.authority": "authorities entitled to the data by law",
        "kind.contractor": "contractors",
        "kind.other": "other recipients",
        "field.controller.name": "the controller's name",
        "field.controller.y_tunnus": "business ID (Y-tunnus)",
        "field.controller.address": "address",
        "field.controller.contact": "contact details",
        "field.dpo.contact": "the data protection officer's contact details",
        "field.recipients": "recipients",
        "field.processors": "processors",
        "field.transfers": "transfers outside the EU and EEA",
    },
}

# What each register holds, item by item (the seed documents' "tietosisältö").
DATA_ITEMS: Final[dict[Language, dict[str, tuple[str, ...]]]] = {
    "fi": {
        "call_recordings": (
            "puhelun alkamisaika ja kesto",
            "soittajan puhelinnumero",
            "numero, johon soitit",
            "työntekijä, joka vastasi puheluun",
            "puhelu äänitallenteena",
            "tieto siitä, kerrottiinko tallentamisesta puhelun alussa",
            "asiakas, johon puhelu on liitetty",
            "merkinnät siitä, kuka on kuunnellut puhelun, milloin ja miksi",
        ),
        "customers": (
            "nimi",
            "henkilötunnus tai, jos sitä ei ole, matkustusasiakirjan numero",
            "asiakasnumero ja asiakkuuden laji (esimerkiksi hakija tai vuokralainen)",
            "osoitteet, puhelinnumerot ja sähköpostiosoitteet",
            "asiointikieli ja turvakielto",
            "samassa asunnossa asuvat henkilöt",
            "edunvalvonta ja alaikäisen huoltaja",
            "vuokrasopimukset",
            "yhteydenotot: puhelut, viestit, käynnit, vikailmoitukset ja palautteet",
            "suoramarkkinoinnin luvat ja kiellot",
            "luovutukset: kenelle, milloin ja millä perusteella tietoja annettiin",
            "tietojen muutoshistoria",
        ),
    },
    "sv": {
        "call_recordings": (
            "samtalets starttid och längd",
            "uppringarens telefonnummer",
            "numret du ringde till",
            "den anställda som svarade i telefon",
            "samtalet som ljudinspelning",
            "om du fick veta i början av samtalet att det spelas in",
            "kunden som samtalet är kopplat till",
            "anteckningar om vem som har lyssnat på samtalet, när och varför",
        ),
        "customers": (
            "namn",
            "personbeteckning eller, om den saknas, resedokumentets nummer",
            "kundnummer och typ av kund (till exempel sökande eller hyresgäst)",
            "adresser, telefonnummer och e-postadresser",
            "kontaktspråk och spärrmarkering",
            "personer som bor i samma bostad",
            "intressebevakning och en minderårigs vårdnadshavare",
            "hyresavtal",
            "kontakter: samtal, meddelanden, besök, felanmälningar och respons",
            "samtycken och förbud för direktmarknadsföring",
            "utlämningar: till vem, när och med vilken grund uppgifter lämnades ut",
            "uppgifternas ändringshistorik",
        ),
    },
    "en": {
        "call_recordings": (
            "when the call started and how long it lasted",
            "the caller's phone number",
            "the number you called",
            "the member of staff who answered",
            "the call as an audio recording",
            "whether you were told at the start of the call that it is recorded",
            "the customer the call is linked to",
            "records of who listened to the call, when and why",
        ),
        "customers": (
            "name",
            "personal identity code or, without one, the travel document number",
            "customer number and kind of customer (for example applicant or tenant)",
            "addresses, phone numbers and e-mail addresses",
            "language and non-disclosure order (turvakielto)",
            "people who live in the same home",
            "guardianship and the guardian of a minor",
            "leases",
            "contacts: calls, messages, visits, fault reports and feedback",
            "direct-marketing consents and bans",
            "disclosures: to whom, when and on what basis data was given",
            "the history of changes to the data",
        ),
    },
}

# Purposes of the customer register, in the order the notice lists them.
CUSTOMER_GOALS: Final[dict[Language, tuple[str, ...]]] = {
    "fi": (
        "Hoidamme asuntohakemustasi ja vuokrasopimustasi.",
        "Kirjaamme yhteydenottosi, jotta asiasi hoituu.",
        "Lähetämme markkinointia vain, jos olet antanut siihen luvan.",
        "Kirjaamme, kenelle olemme antaneet tietojasi.",
    ),
    "sv": (
        "Vi sköter din bostadsansökan och ditt hyresavtal.",
        "Vi antecknar dina kontakter så att ditt ärende blir skött.",
        "Vi skickar marknadsföring bara om du har gett ditt samtycke.",
        "Vi antecknar till vem vi har lämnat ut dina uppgifter.",
    ),
    "en": (
        "We handle your application and your lease.",
        "We note down your contacts so that your matter gets done.",
        "We send marketing only if you have agreed to it.",
        "We record to whom we have given your data.",
    ),
}


def say(language: Language, key: str, **values: str) -> str:
    """The text ``key`` in ``language``, with ``values`` filled in."""
    text = TEXT[language][key]
    return text.format(**values) if values else text
