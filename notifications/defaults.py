"""The notification texts a new installation starts with (seeded by a data migration, editable
in the admin), and the last resort when a template was deleted.

Context every template gets: shopper_name, ticket_id, subject (the inquiry's first words),
agent_name, team, message (the reply), link (the shopper's page), rate_link (the page's rating
form), and, for SMS, message_short.
"""

DEFAULT_LANGUAGE = "en"

# (kind, channel, language) -> (subject, body)
DEFAULT_TEMPLATES: dict[tuple[str, str, str], tuple[str, str]] = {
    ("reply", "email", "en"): (
        "{{ agent_name }} replied to your inquiry #{{ ticket_id }}",
        "Hello {{ shopper_name }},\n\n"
        "{{ agent_name }} from our {{ team }} team replied to your inquiry #{{ ticket_id }} ({{ subject }}):\n\n"
        "{{ message }}\n\n"
        "Simply reply to this email to answer, or follow the conversation on your inquiry's page:\n"
        "{{ link }}\n\n"
        "— Customer service\n",
    ),
    ("reply", "email", "zh-hans"): (
        "{{ agent_name }}回复了您的咨询 #{{ ticket_id }}",
        "{{ shopper_name }}，您好：\n\n"
        "{{ team }}团队的{{ agent_name }}回复了您的咨询 #{{ ticket_id }}（{{ subject }}）：\n\n"
        "{{ message }}\n\n"
        "直接回复此邮件即可继续沟通，也可以在咨询页面查看完整对话：\n"
        "{{ link }}\n\n"
        "—— 客户服务\n",
    ),
    ("reply", "sms", "en"): (
        "",
        "{{ agent_name }} replied to your inquiry #{{ ticket_id }}: {{ message_short }} Read and reply: {{ link }}",
    ),
    ("reply", "sms", "zh-hans"): (
        "",
        "{{ agent_name }}回复了您的咨询#{{ ticket_id }}：{{ message_short }} 查看并回复：{{ link }}",
    ),
    ("resolved", "email", "en"): (
        "Your inquiry #{{ ticket_id }} is resolved — how did we do?",
        "Hello {{ shopper_name }},\n\n"
        "{{ agent_name }} has marked your inquiry #{{ ticket_id }} ({{ subject }}) as resolved.\n\n"
        "How did we do? Rate us from 1 to 5 in one tap:\n"
        "{{ rate_link }}\n\n"
        "If anything is still open, simply reply to this email and we will pick it up again.\n\n"
        "— Customer service\n",
    ),
    ("resolved", "email", "zh-hans"): (
        "您的咨询 #{{ ticket_id }} 已解决，请为我们的服务评分",
        "{{ shopper_name }}，您好：\n\n"
        "{{ agent_name }}已将您的咨询 #{{ ticket_id }}（{{ subject }}）标记为已解决。\n\n"
        "您对这次服务满意吗？点一下即可打分（1–5 分）：\n"
        "{{ rate_link }}\n\n"
        "如果问题还没有解决，直接回复此邮件，我们会继续为您处理。\n\n"
        "—— 客户服务\n",
    ),
    ("resolved", "sms", "en"): (
        "",
        "Your inquiry #{{ ticket_id }} is resolved. How did we do? Rate us: {{ rate_link }}",
    ),
    ("resolved", "sms", "zh-hans"): (
        "",
        "您的咨询#{{ ticket_id }}已解决。满意吗？请为我们评分：{{ rate_link }}",
    ),
    ("reopened", "email", "en"): (
        "We reopened your inquiry #{{ ticket_id }}",
        "Hello {{ shopper_name }},\n\n"
        "Thank you for your message. Your inquiry #{{ ticket_id }} ({{ subject }}) is open again and "
        "{% if agent_name %}{{ agent_name }}{% else %}one of our {{ team }} specialists{% endif %} "
        "will get back to you shortly.\n\n"
        "Follow the conversation on your inquiry's page:\n"
        "{{ link }}\n\n"
        "— Customer service\n",
    ),
    ("reopened", "email", "zh-hans"): (
        "您的咨询 #{{ ticket_id }} 已重新打开",
        "{{ shopper_name }}，您好：\n\n"
        "感谢您的留言。您的咨询 #{{ ticket_id }}（{{ subject }}）已重新打开，"
        "{% if agent_name %}{{ agent_name }}{% else %}{{ team }}专员{% endif %}会尽快回复您。\n\n"
        "在咨询页面查看对话：\n"
        "{{ link }}\n\n"
        "—— 客户服务\n",
    ),
    ("reopened", "sms", "en"): (
        "",
        "Your inquiry #{{ ticket_id }} is open again; a specialist will reply shortly: {{ link }}",
    ),
    ("reopened", "sms", "zh-hans"): (
        "",
        "您的咨询#{{ ticket_id }}已重新打开，专员会尽快回复：{{ link }}",
    ),
}
