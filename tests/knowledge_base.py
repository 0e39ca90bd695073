"""A small shop's knowledge base, uploaded through the API, for the search tests and bench."""

from tests.helpers import make_docx, make_pdf, upload

REFUND_POLICY = (
    "Refund policy. If you are not satisfied with your purchase, return it within 30 days "
    "for a full refund. Refunds are credited to your original payment method within five "
    "business days after we receive the item. Gift cards cannot be refunded."
)
OPENING_HOURS = (
    "# Opening hours\n\nOur store is open Monday to Friday from 9 am to 6 pm and on Saturday "
    "from 10 am to 4 pm. We are closed on Sundays and public holidays."
)
PRODUCT_SPECIFICATIONS = [
    "Aurora X2 wireless headphones: product sheet.",
    "Battery life: up to 40 hours of playback on a single charge.",
    "Active noise cancellation, Bluetooth 5.3, weight 250 grams.",
    "Available colours: black and silver.",
]
PRODUCT_WARRANTY = [
    "Warranty: every Aurora X2 is covered for two years against manufacturing defects.",
    "Register your headphones online to extend the warranty by one more year.",
]
SHIPPING = [
    "Shipping and delivery",
    "Orders are dispatched within 24 hours. Standard delivery takes three to five working "
    "days; express delivery arrives the next day. Shipping is free for orders over 50 euros.",
]
CONTACT = (
    "Contact us: call our support team at +1 555 0100, Monday to Friday, or write to "
    "help@example.com and we answer within one day."
)
PRIVACY = (
    "Privacy notice. We never sell your personal data to third parties. You can ask us to "
    "delete your account and all the data we hold about you at any time."
)


def knowledge_base_files():
    return [
        upload("refund-policy.txt", REFUND_POLICY),
        upload("opening-hours.md", OPENING_HOURS),
        upload("aurora-x2.pdf", make_pdf([PRODUCT_SPECIFICATIONS, PRODUCT_WARRANTY])),
        upload("shipping.docx", make_docx(SHIPPING)),
        upload("contact.txt", CONTACT),
        upload("privacy.md", PRIVACY),
    ]


# Natural questions, and the document (and PDF page) that answers each.
QUESTIONS = [
    ("how do I get my money back", "refund-policy.txt", None),
    ("can I send the item back", "refund-policy.txt", None),
    ("when are you open on Saturday", "opening-hours.md", None),
    ("what time do you close", "opening-hours.md", None),
    ("how many hours of music can I play before recharging", "aurora-x2.pdf", 1),
    ("which colours can I choose", "aurora-x2.pdf", 1),
    ("what if my headphones stop working", "aurora-x2.pdf", 2),
    ("how long will delivery take", "shipping.docx", None),
    ("what is your phone number", "contact.txt", None),
    ("do you share my information with other companies", "privacy.md", None),
]
