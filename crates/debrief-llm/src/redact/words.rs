//! The words redaction reads in five languages (English, Brazilian Portuguese, Spanish,
//! German, French): the names under which people give a secret, the verbs that introduce it,
//! the ordinary words that follow such a name without being a secret, and the context words of
//! phone numbers, references, versions and amounts.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

/// Names of a password. A value after one of them and a verb or a colon is a secret unless it
/// is an ordinary word.
pub const PASSWORD_NAMES: &str = r"passwords?|passwort|passw[öo]rter|passwd|passphrase|passcode|kennwort|senhas?|contrase[ñn]as?|mots?[ -]de[ -]passe|mdp|palavra[ -]passe|wi-?fi[ -]key|wlan[ -]schl[üu]ssel";

/// Short names of a password, taken only before a colon or `=`: "pw: …", "secret = …".
pub const SHORT_NAMES: &str = r"pw|pwd|pswd|pword|pass|secret|geheimnis|segredo|secreto";

/// Names of a PIN or a one-time code: the value must have digits.
pub const PIN_NAMES: &str = r"pin(?:[ -]?(?:code|nummer|n[úu]mero))?|c[óo]digo pin|code pin|geheimzahl|cvv2?|cvc|otp|(?:verification|security|2fa|mfa|one[ -]time|sms|login) code|c[óo]digo (?:de )?(?:verifica[çc][ãa]o|verificaci[óo]n|seguran[çc]a|seguridad|acesso|acceso|confirma[çc][ãa]o|confirmaci[óo]n)|(?:best[äa]tigungs|sicherheits|zugangs|anmelde)code|code (?:de |d')?(?:v[ée]rification|s[ée]curit[ée]|confirmation|acc[èe]s)";

/// Names of a key or token: the value is an API key.
pub const KEY_NAMES: &str = r"api[ _-]?keys?|apikey|x-api-key|access[ _-]?key[ _-]?id|secret[ _-]?key|client[ _-]?secret|(?:access|auth|refresh|api|personal[ _-]access|sas|session)[ _-]?token|token|subscription[ _-]?key|chave (?:de |da )?api|clave (?:de |del? )?api|api[ -]schl[üu]ssel|cl[ée] (?:d'|de )?api|app[ _-]?password";

/// The verb between a password's name and its value, with the spaces around it: "is",
/// "lautet", "é", "es", "est", a colon, a changed-to phrase, "'s".
pub const VERBS: &str = r"(?:[ \t]+(?:(?:has been|have been|was|is|got) (?:changed|set|reset|updated) to|(?:changed|set|reset|updated) to|will be|would be|should be|is|was|are|est[áa]|(?:foi|est[áa]|ficou) (?:alterad[ao]|trocad[ao]|mudad[ao]|redefinid[ao]|definid[ao]) (?:para|como|pra)|agora é|é|era|ser[áa]|seria|ficou|fica|(?:fue|ha sido|est[áa]) (?:cambiad[ao]|restablecid[ao]|puest[ao]) (?:a|en|como|por)|ahora es|es|ser[íi]a|qued[óo]|queda|wurde auf|lautet|lautete|ist|war|hei[ßs]t|a [ée]t[ée] (?:chang[ée]e?|modifi[ée]e?|r[ée]initialis[ée]e?) (?:en|[àa]|pour|par)|est|[ée]tait|sera|serait|c'est)(?:[ \t]*[:=][ \t]*|[ \t]+)|['’]s[ \t]+|[ \t]*[:=][ \t]*)";

/// Adverbs between the verb and the value: "my password is *now* …".
pub const SKIPPED: &str = r"now|still|just|simply|currently|agora|ainda|atualmente|ahora|todav[íi]a|actualmente|jetzt|nun|noch|aktuell|maintenant|toujours|actuellement";

/// Articles and possessives before a password's name: "changed *the* password to …".
pub const ARTICLES: &str = r"my|the|our|your|his|her|their|a|an|minha|sua|nossa|tua|mi|la|su|tu|nuestra|el|mein|meine|das|dein|ihr|unser|sein|mon|ma|le|votre|ton|notre|son|l'";

/// "New" before a password's name.
pub const NEW: &str =
    r"new|temporary|nova|nuevo|nueva|neue|neues|nouveau|nouvelle|provis[óo]ria|temporal";

/// Verbs that set a password to a value named after it: "I *changed* the password to …".
pub const CHANGE_VERBS: &str = r"set|changed|change|reset|updated|update|mudei|troquei|alterei|redefini|defini|coloquei|mude|troque|altere|cambi[ée]|puse|restablec[íi]|configur[ée]|habe|hab|hat|haben|chang[ée]|modifi[ée]|mis|r[ée]initialis[ée]";

/// Cues that take only a password-shaped value: "I set it to …", "pw …", "la clave es …".
pub const WEAK_CUES: &str = r"(?:set|changed|change|reset|updated|update|switched|made) (?:it|that|this|them) (?:to|as|into)|(?:the )?new one(?: is|'s)|pw|pwd|pswd|passwd|secret (?:is|was)|(?:coloquei|mudei|troquei|alterei|defini|redefini|botei)(?: ela| a senha)?(?: para| pra| como)?|a nova (?:é|e)|(?:la )?(?:cambi[ée]|puse|restablec[íi]|configur[ée])(?: la)?(?: a| por| como| en)|la nueva es|(?:la )?clave(?: del? \S+)? es|(?:es|ihn|sie|das) auf|das neue (?:ist|lautet)|(?:je l'ai |l'ai |on l'a )?(?:chang[ée]|modifi[ée]|r[ée]initialis[ée]|remplac[ée]) (?:en|par|pour)|(?:je l'ai |l'ai |on l'a )mis [àa]|(?:le nouveau|la nouvelle) (?:est|c'est)";

/// Talk of passwords or credentials: once a call has seen it, a weak cue ("I set it to …")
/// takes any password-shaped value, not only one with a symbol.
pub static PASSWORD_TALK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)(?-u:\b)(?:{PASSWORD_NAMES}|pw|pwd|clave|credentials?|credenciais|credenciales|zugangsdaten|identifiants)(?-u:\b)"
    ))
    .expect("password talk pattern compiles")
});

/// A person introducing themselves by name: "my name is Chase Carter", "me llamo Lucía",
/// "ich heiße Jürgen Weiß"; the name is capitalised.
pub static INTRODUCTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)(?:(?i:my name is|my name's|me llamo|mi nombre es|meu nome [ée]|me chamo|ich hei(?:ß|ss)e|mein name ist|je m'appelle|je me nomme|mon nom est))[ \t]+(\p{Lu}[\p{Ll}'’]*\p{Lu}?[\p{Ll}'’-]+(?:[ \t]+(?:(?:da|de|do|dos|das|del|van|von|der|le|la|du)[ \t]+)?\p{Lu}[\p{Ll}'’]*\p{Lu}?[\p{Ll}'’-]+){0,2})")
        .expect("introduction pattern compiles")
});

/// A noun that makes a password's name part of another name: "the password *policy* is
/// strict", "a *política de* senha é rígida".
pub static COMPOUND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:policy|policies|field|prompt|manager|length|complexity|reset|change|history|expiry|expiration|requirements?|rules?|box|screen|page|dialog|window|hint|strength|vault|form|link|settings?|options?|feature|section|tab|menu|button|generator|recovery|sync|management)\b")
        .expect("compound pattern compiles")
});

/// A noun and preposition before a password's name that make it part of another name.
pub static COMPOUND_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:pol[íi]tica|politique|campo|champ|caixa|cuadro|redefini[çc][ãa]o|cambio|troca|changement|r[ée]initialisation|longitud|longueur|tamanho|comprimento|requisitos?|exig[êe]ncias?|r[èe]gles?|regras?|reglas?|gestor|gerenciador|gestionnaire|hist[óo]rico|historique|historial|recupera[çc][ãa]o|recuperaci[óo]n|r[ée]cup[ée]ration)[ \t]+(?:de|da|do|del|des|du)(?:[ \t]+(?:la|los|las|les|l'))?[ \t]*$")
        .expect("compound pattern compiles")
});

/// A clause between a password's name and the verb that belongs to another clause: "my
/// password *and the printer are* broken".
pub static CLAUSE_BREAK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[ \t](?:and|but|or|because|so|then|when|if|while|mas|ou|porque|então|quando|se|y|pero|o|entonces|cuando|si|und|aber|oder|weil|dann|wenn|als|et|mais|parce|alors|quand|puis)[ \t]")
        .expect("clause pattern compiles")
});

/// Words before a number that make it a phone number.
pub static PHONE_CUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:phone|tel|telephone|call|calling|ring|text|sms|mobile|cell|number|whatsapp|fax|ext|extension|dial|reach|contact|telefone|fone|celular|ligar|ligue|liga|me liga|n[úu]mero|contato|ramal|tel[ée]fono|m[óo]vil|llamar|llame|ll[áa]mame|llamen|contacto|telefon|handy|nummer|rufnummer|mobil|anrufen|ruf|erreichbar|durchwahl|t[ée]l[ée]phone|portable|num[ée]ro|appeler|appelez|joindre|fixe)\b")
        .expect("phone cue pattern compiles")
});

/// Words before a number that make it a reference, not a phone number: an order, a ticket, an
/// invoice or a postal code, up to two words before the number ("order number 555 1234",
/// "chamado nº 2024-000123"). Account and customer numbers are not among them: they identify a
/// person and are better taken for a phone number than sent.
pub static REFERENCE_CUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:\b(?:order|ticket|case|invoice|ref|reference|serial|tracking|booking|confirmation|incident|request|zip|postcode|pedido|protocolo|chamado|fatura|nota|rastreio|reserva|cep|factura|caso|solicitud|incidencia|bestellung|bestellnummer|rechnung|auftrag|vorgang|sendung|plz|commande|facture|dossier|r[ée]f[ée]rence|demande|colis|nr)\b|\bno\.|\bn[º°])\W*(?:\w+\W+){0,2}$|#\s*$")
        .expect("reference cue pattern compiles")
});

/// Words right before a number that make it a version or a build.
pub static VERSION_CUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:\bv|\bversion|\bvers[ãa]o|\bversi[óo]n|\bbuild|\bver\.?|\brelease|\bkb)\s*$",
    )
    .expect("version cue pattern compiles")
});

/// A currency right before a number.
pub static MONEY_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:[$€£¥]|\br\$|\b(?:usd|eur|brl|gbp|chf|mxn|ars|cop|clp))\s*$")
        .expect("money pattern compiles")
});

/// A currency or unit right after a number.
pub static UNIT_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?:[$€£¥%]|(?:usd|eur|brl|gbp|chf|euros?|dollars?|reais|pesos?|yuan|rmb|yen|pounds?|francs?|bucks|cents?|kb|mb|gb|tb|km|kg|miles|meters?|metros?|people|persons|pessoas|personas|menschen|personnes|times|vezes|veces|fois|bytes|users|usuarios|usuários|utilisateurs|nutzer|items|units|pieces|copies)\b)")
        .expect("unit pattern compiles")
});

/// The words of a space-separated list.
fn words(list: &'static str) -> HashSet<&'static str> {
    list.split_whitespace().collect()
}

/// Ordinary words that follow a password's name and verb without being the password, in lower
/// case: "my password is *wrong*", "a senha está *errada*", "das Passwort ist *abgelaufen*".
pub static ORDINARY: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    words(concat!(
        // English
        "a about after again all also always an and any as at bad be because been before being ",
        "blank broken but by case changed characters chars complex correct different digits done ",
        "easy empty enough even every expired fine for forgotten from gone good great hard here ",
        "hidden how if in incorrect insecure into invalid it its just known letters like locked ",
        "long lost mine missing my needed never new no none not nothing now nowhere numbers of ",
        "off ok okay old on one only or our over pretty probably quite really required reset ",
        "right safe same secure sensitive set shown short simple since so some something still ",
        "stolen strong stuck that the their them then there these they this those through to too ",
        "two under unknown until up valid very visible was weak what whatever when where which ",
        "who why with without written wrong yes you your yours ",
        "annoying complicated high low strict stupid weird strange ",
        "rígida rígido obrigatória obrigatório vazia vazio estricta estricto vacía vacío ",
        "obligatoria obligatorio streng strenge stricte obligatoire ",
        // Verbs that begin a rule about the password, not the password
        "braucht can cannot contain contains could darf debe deve did does doit faut has hat ",
        "have include includes kann may might muss must necesita need needs peut pode precisa ",
        "puede should soll tem tiene will would ",
        // Portuguese
        "agora ainda antiga antigo ao apenas aqui as até bloqueio caracteres certa certo com ",
        "como correta correto curta curto da das de dela dele diferente difícil do dos em errada ",
        "errado essa esse esta este expirou fácil forte fraca fraco igual incorreta incorreto ",
        "inválida inválido isso já longa longo mesma mesmo meu minha muito na nas no nos nossa ",
        "nosso nova novo não o os ou outra outro para pela pelo pouco pra que qual segura seguro ",
        "sem sempre seu simples sim sua também tua um uma vencida venceu válida válido só ",
        // Spanish
        "ahora al antigua antiguo aún con correcta correcto corta cuál débil del demasiado el en ",
        "equivocada errónea esa ese eso esto fuerte incorrecta la larga largo las los mi muy ",
        "misma nueva nuevo otra por porque segura sin siempre sí solo sólo su todavía tu una ",
        "unos vieja viejo ya ",
        // German
        "abgelaufen aber alt alte am an anders auch auf bei bekannt das dasselbe dein deine dem ",
        "den der des die dieses ein eine einfach falsch für gleich gültig ihr im immer ist jetzt ",
        "kein keine korrekt kurz lang leer mein meine mit nein neu neue nicht noch nur ohne ",
        "richtig schon schwach sehr sicher stark unbekannt ungültig unser vergessen vom von weg ",
        "zu zurückgesetzt ",
        // French
        "ancien ancienne aussi avec bon bonne ce cela ces cet cette correcte court courte dans ",
        "déjà différent différente du elle encore facile faible faux fausse fort il incorrecte ",
        "jamais juste le les longue ma mauvais mauvaise mes même mon ne notre nouveau nouvelle ",
        "pareil pas perdu plus pour requis sans seulement sur ta ton toujours trop très un ",
        "valide vide votre ça ",
    ))
});

/// Words that name a role, not a person: a speaker called "Customer", "Agent 7" or "IT
/// Helpdesk" keeps the name.
pub static ROLE_WORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    words(concat!(
        "atendimento atención auto automated billing center centre chat contact help hotline ",
        "info kundendienst kundenservice live noreply office reply sales vendas ventas ventes ",
        "vertrieb virtual ",
        "admin administrator agent agente agentin ai analyst assistant assistente asistente \
         atendente benutzer bot caller chatbot client cliente customer desk end equipe equipo \
         guest helpdesk ia invité it ki kunde kundin me moderator nutzer operador operator \
         opérateur participant person representative service servicedesk sistema speaker suporte \
         support supporter soporte system système team tech technician technicien techniker \
         técnica técnico unknown user usuario usuário utilisateur utilisatrice visitor you",
    ))
});

/// Particles of a name that identify nobody on their own: the "da" of "Ana da Silva".
pub static NAME_PARTICLES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    words("al bin da das de del della den der di do dos du el la le st ten ter van von y")
});

/// First and last names that are also common words: only a capitalised mention is the person
/// ("Will said" but not "I will").
pub static COMMON_WORD_NAMES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    words(
        "amber angel april art august baker bell bill black brown case chase cook cruz dawn don \
         drew faith flor frank fox gene grant gray green grey guy hall hope hunter jack joy june \
         king klein lane lang long luz major mar mark max may miles page pat paz pierre price \
         ray rich rob rosa rose sky sol sue summer sunny wade white will wolf young",
    )
});

/// Each IBAN country with the length of its IBANs (ISO 13616 registry): `DE22` is a German
/// IBAN of 22 characters.
pub const IBAN_LENGTHS: &str =
    "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DK18 DO28 \
     EE20 EG29 ES24 FI18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 \
     IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MR27 MT31 MU30 \
     NL18 NO15 PK24 PL28 PS29 PT25 QA29 RO24 RS22 SA24 SC31 SD18 SE24 SI19 SK24 SM27 ST25 SV28 \
     TL23 TN24 TR26 UA29 VA22 VG24 XK20";
