"""The Slack front end: mentions, DMs, `/ask`, a question form, answer buttons and feedback.

`app.build_slack_app` builds the Bolt app; `socket_mode` and `http_mode` serve it.
"""
