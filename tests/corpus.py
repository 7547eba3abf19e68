"""Small texts shared by the front-end tests (HTTP and Slack ask the same questions)."""

KEY_TEXT = (
    "To rotate the API key, open Settings, choose API and click Rotate key. "
    "The old API key keeps working for 24 hours after a rotation, then it stops. "
    "Only workspace admins can rotate an API key."
)
LEAVE_TEXT = (
    "Employees get 25 days of paid leave per year. Request leave in the HR portal at least "
    "two weeks ahead. Unused leave carries over until the end of March."
)
