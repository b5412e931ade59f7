// Turn a message into a helpdesk ticket update: route by channel, add an
// idempotency header, nest the body and tag it.
var queues = { SMS: "mobile", WHATSAPP: "mobile", custom: "web" };

function transform(request, event) {
  var queue = queues[event.channel] || "general";
  request.url = "https://helpdesk.example.com/api/v2/queues/" + queue + "/tickets";
  request.method = "PUT";
  request.headers["Idempotency-Key"] = event.messageId;
  request.params.notify = "false";
  request.body = {
    ticket: {
      external_id: event.conversationId,
      requester: { name: event["contact.name"], email: event["contact.email"] },
      comment: { body: event.content, public: true },
      tags: ["switchboard", queue]
    }
  };
  return request;
}
