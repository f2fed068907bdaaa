"""Well-known disposable (throwaway) email domains.

A curated, deliberately short list of long-lived public services whose inboxes
anyone can read or that hand out addresses for minutes; it is not exhaustive, and
new services appear all the time. Merchants add their own domains through
`RiskPolicy.extra_disposable_domains`. A domain here also matches its subdomains
(x.mailinator.com), so entries are registrable domains, in lower case.

A merchant's own entries are checked as domain names (`normalised_domain`) and kept
in the form email addresses carry them after validation: lower case, Unicode labels.
"""

from __future__ import annotations

import idna

# RFC 1035: 253 characters in the dotted form, 63 per label (the idna package checks both
# on the ASCII form, where an internationalised label is longer).
MAX_DOMAIN_LENGTH = 253


def normalised_domain(text: str) -> str:
    """`text` as a domain name: lower case, Unicode labels (IDNA 2008 with the UTS 46
    mapping, as email-validator reads addresses), without the "@" or "." merchants often
    type first or a trailing dot. Raises ValueError saying why `text` is not one."""
    candidate = text.strip().lstrip("@.").rstrip(".")
    if not candidate:
        raise ValueError("must not be blank")
    if len(candidate) > MAX_DOMAIN_LENGTH:
        raise ValueError(f"must be at most {MAX_DOMAIN_LENGTH} characters")
    try:
        ascii_form = idna.encode(candidate, uts46=True, std3_rules=True).decode("ascii")
    except idna.IDNAError as error:
        raise ValueError(f"is not a domain name ({error})") from error
    labels = ascii_form.split(".")
    if len(labels) < 2:
        raise ValueError("must have at least two labels, such as example.com")
    if labels[-1].isdigit():
        raise ValueError("is not a domain name (the last label is a number)")
    return idna.decode(ascii_form)


DISPOSABLE_DOMAINS: frozenset[str] = frozenset(
    {
        # Mailinator and the alternate domains it receives mail for.
        "mailinator.com",
        "mailinator.net",
        "mailinator2.com",
        "mailnator.com",
        "notmailinator.com",
        "binkmail.com",
        "bobmail.info",
        "chammy.info",
        "devnullmail.com",
        "letthemeatspam.com",
        "mailmetrash.com",
        "reallymymail.com",
        "safetymail.info",
        "sendspamhere.com",
        "sogetthis.com",
        "spamhereplease.com",
        "spamherelots.com",
        "suremail.info",
        "thisisnotmyrealemail.com",
        "tradermail.info",
        "veryrealemail.com",
        "zippymail.info",
        # Guerrilla Mail.
        "guerrillamail.com",
        "guerrillamail.net",
        "guerrillamail.org",
        "guerrillamail.biz",
        "guerrillamail.de",
        "guerrillamail.info",
        "guerrillamailblock.com",
        "grr.la",
        "pokemail.net",
        "sharklasers.com",
        "spam4.me",
        # 10 Minute Mail and similar timed inboxes.
        "10minutemail.com",
        "10minutemail.net",
        "10minutemail.co.uk",
        "20minutemail.com",
        "mailexpire.com",
        "mintemail.com",
        # YOPmail and its alternate domains.
        "yopmail.com",
        "yopmail.net",
        "yopmail.fr",
        "cool.fr.nf",
        "courriel.fr.nf",
        "jetable.fr.nf",
        "moncourrier.fr.nf",
        "monemail.fr.nf",
        "monmail.fr.nf",
        "nospam.ze.tc",
        "nomail.xl.cx",
        "mega.zik.dj",
        "speed.1s.fr",
        # Temp Mail and look-alikes.
        "temp-mail.org",
        "temp-mail.io",
        "temp-mail.ru",
        "tempail.com",
        "tempmailo.com",
        "tempr.email",
        "tempinbox.com",
        "tempemail.net",
        "temporaryinbox.com",
        "tempomail.fr",
        "tempmailaddress.com",
        "tmpmail.org",
        "tmpmail.net",
        # TrashMail and its alternate domains.
        "trashmail.com",
        "trashmail.net",
        "trashmail.de",
        "trashmail.me",
        "trashmail.at",
        "trashmail.io",
        "trashmail.ws",
        "kurzepost.de",
        "rcpt.at",
        "wegwerfmail.de",
        "wegwerfmail.net",
        "wegwerfmail.org",
        "objectmail.com",
        "proxymail.eu",
        "trash-mail.com",
        "mytrashmail.com",
        "trashymail.com",
        "trashymail.net",
        # Fake Mail Generator.
        "fakemailgenerator.com",
        "armyspy.com",
        "cuvox.de",
        "dayrep.com",
        "einrot.com",
        "fleckens.hu",
        "gustr.com",
        "jourrapide.com",
        "rhyta.com",
        "superrito.com",
        "teleworm.us",
        # Other long-standing services.
        "0-mail.com",
        "0815.ru",
        "0wnd.net",
        "0wnd.org",
        "anonbox.net",
        "byom.de",
        "discard.email",
        "discardmail.com",
        "discardmail.de",
        "dispostable.com",
        "dropmail.me",
        "emailfake.com",
        "emailondeck.com",
        "fakeinbox.com",
        "filzmail.com",
        "getairmail.com",
        "getnada.com",
        "harakirimail.com",
        "inboxkitten.com",
        "incognitomail.org",
        "jetable.org",
        "mailcatch.com",
        "maildrop.cc",
        "mailforspam.com",
        "mailnesia.com",
        "mailnull.com",
        "mailpoof.com",
        "mohmal.com",
        "moakt.com",
        "mytemp.email",
        "spam.la",
        "spamavert.com",
        "spambog.com",
        "spambog.de",
        "spambog.ru",
        "spambox.us",
        "spamdecoy.net",
        "spamfree24.org",
        "spamgourmet.com",
        "spamgourmet.net",
        "throwawaymail.com",
        "wegwerfadresse.de",
    }
)
