// Post each reply to a Slack incoming webhook as a formatted message.
function transform(request, event) {
  request.url = "https://hooks.slack.example/services/T000/B000/XXXX";
  request.params = {};
  request.body = {
    text: "*" + (event["contact.name"] || "A contact") + "* (" + event.channel + "): " + event.content,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: event.content } },
      { type: "context", elements: [{ type: "mrkdwn", text: "conversation " + event.conversationId }] }
    ]
  };
  console.log("slack message for", event.conversationId);
  return request;
}
