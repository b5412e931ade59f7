// Drop deliveries for internal test contacts; send everything else unchanged.
function transform(request, event) {
  var email = (event["contact.email"] || "").toLowerCase();
  if (email.endsWith("@test.example.com")) {
    console.log("skipping test contact", email);
    return null;
  }
  return request;
}
