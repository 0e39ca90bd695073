"""The examples of the published AI Characters API reference, used by several tests."""

SUPPORT_BOT = {
    "slug": "support-bot",
    "name": "Support Bot",
    "system_prompt": "You are a helpful support agent for Acme Inc...",
    "greeting": "Hi! How can I help you today?",
    "language": "en",
    "allowed_origins": ["https://acme.com"],
    "llm_model": "gpt-4o-mini",
}

SALES_AGENT = {
    "slug": "sales-agent",
    "name": "Sales Assistant",
    "system_prompt": (
        "You are an enthusiastic sales assistant for Acme Inc. Help prospects understand our "
        "products and book demos."
    ),
    "greeting": "Hi there! I'm the Acme sales assistant. How can I help you today?",
    "language": "en",
    "llm_model": "gpt-4o",
    "background_audio": "office",
    "allowed_origins": ["https://acme.com"],
    "handoff_targets": [{"slug": "support-bot"}],
    "widget_appearance": {
        "name": "Acme Sales",
        "theme": {"primary_color": "#FF6B35"},
        "forms": [
            {
                "id": "book-demo",
                "title": "Book a demo",
                "submit_url": None,
                "fields": [
                    {"name": "name", "label": "Your name", "type": "text", "required": True},
                    {"name": "email", "label": "Work email", "type": "email", "required": True},
                ],
            }
        ],
    },
}
