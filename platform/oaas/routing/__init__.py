"""Order routing: which fulfilment node (or nodes) ships an order, and why.

`engine.decide` is pure: it takes everything it needs in a `RoutingRequest`
(nodes with their stock, capacity, costs and delivery estimates) and returns a
`Decision` with every candidate's score and one sentence explaining the choice.
Loading those facts from the database and storing the decision live elsewhere.
"""
