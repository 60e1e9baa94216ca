-- wrk script: one valid dine-in order per request.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"customer_name":"Ann Lee","order_type":"dine_in","table_number":7,' ..
           '"items":[{"name":"Margherita","quantity":2,"price":12.50}]}'
