"""Chat bots: 飞书 (Lark), 钉钉 (DingTalk), 企业微信 (WeCom) and Slack-compatible group webhooks, per team and kind."""
